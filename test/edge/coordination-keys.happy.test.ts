import { expect, it } from 'vitest';
import { coalesceKey, endpointOf, userGateName } from '../../src/coordination/keys.ts';
import { type AuthRequest, authRequestSchema } from '../../src/wire/schemas.ts';

const req = (overrides: Record<string, unknown> = {}): AuthRequest =>
  authRequestSchema.parse({
    username: 'alice',
    factor: 'push',
    primary: 'passed',
    client_ip: '198.51.100.7',
    nas: { ip: '192.0.2.1', identifier: 'vpn-a', calling_station_id: '203.0.113.9' },
    ...overrides,
  });

it('one gate per (site, user), whatever the username case', () => {
  expect(userGateName('s1', 'Alice')).toBe(userGateName('s1', 'alice'));
  expect(userGateName('s1', 'alice')).not.toBe(userGateName('s2', 'alice'));
  // No separator trick can make two pairs collide.
  expect(userGateName('a"', 'b')).not.toBe(userGateName('a', '"b'));
});

it('the endpoint is the NAS plus the user device', () => {
  expect(endpointOf(req())).toBe(endpointOf(req({ client_ip: '198.51.100.99' })));
  expect(endpointOf(req())).not.toBe(endpointOf(req({ nas: { ip: '192.0.2.2', calling_station_id: '203.0.113.9' } })));
  expect(endpointOf(req())).not.toBe(endpointOf(req({ nas: { ip: '192.0.2.1', calling_station_id: '203.0.113.10' } })));
  // Without Calling-Station-Id the client IP identifies the device; without NAS IP the identifier.
  expect(endpointOf(req({ nas: { identifier: 'vpn-a' } }))).not.toBe(
    endpointOf(req({ nas: { identifier: 'vpn-a' }, client_ip: '198.51.100.8' })),
  );
  expect(endpointOf(req({ nas: { identifier: 'vpn-a' } }))).not.toBe(endpointOf(req({ nas: { identifier: 'vpn-b' } })));
});

it('only identical requests share a call; a different passcode never does', async () => {
  expect(await coalesceKey(req())).toBe(await coalesceKey(req()));
  expect(await coalesceKey(req())).not.toBe(await coalesceKey(req({ factor: 'phone' })));
  expect(await coalesceKey(req())).not.toBe(await coalesceKey(req({ device: 'DPFZRS9FB0D46QFTM891' })));
  const p1 = await coalesceKey(req({ factor: 'passcode', passcode: '123456' }));
  expect(p1).toBe(await coalesceKey(req({ factor: 'passcode', passcode: '123456' })));
  expect(p1).not.toBe(await coalesceKey(req({ factor: 'passcode', passcode: '123457' })));
  expect(p1).not.toContain('123456');
});
