import { type AuthRequest, authRequestSchema } from '@duo-edge/contract/wire';
import { expect, it } from 'vitest';
import { coalesceKey, userGateName } from '../../src/coordination/keys.ts';

const req = (overrides: Record<string, unknown> = {}): AuthRequest =>
  authRequestSchema.parse({
    username: 'alice',
    factor: 'push',
    primary: 'passed',
    client_ip: '198.51.100.7',
    nas: { ip: '192.0.2.1', identifier: 'vpn-a', calling_station_id: '203.0.113.9' },
    login_id: 'a'.repeat(64),
    ...overrides,
  });

it('one gate per (site, user), whatever the username case', () => {
  expect(userGateName('s1', 'Alice')).toBe(userGateName('s1', 'alice'));
  expect(userGateName('s1', 'alice')).not.toBe(userGateName('s2', 'alice'));
  // No separator trick can make two pairs collide.
  expect(userGateName('a"', 'b')).not.toBe(userGateName('a', '"b'));
});

it('only the same login joins: one endpoint with two login_ids is two calls', async () => {
  expect(await coalesceKey(req())).not.toBe(await coalesceKey(req({ login_id: 'b'.repeat(64) })));
  const bare = { nas: { ip: '192.0.2.1' } };
  expect(await coalesceKey(req({ ...bare, login_id: '1'.repeat(64) }))).not.toBe(
    await coalesceKey(req({ ...bare, login_id: '2'.repeat(64) })),
  );
  // The same Access-Request at another relay carries the same login_id: it joins.
  expect(await coalesceKey(req({ nas: { ip: '192.0.2.1' } }))).toBe(
    await coalesceKey(req({ nas: { ip: '192.0.2.1' } })),
  );
});

it('only identical requests share a call; another primary outcome or passcode never does', async () => {
  expect(await coalesceKey(req())).toBe(await coalesceKey(req()));
  expect(await coalesceKey(req())).not.toBe(await coalesceKey(req({ primary: 'none' })));
  expect(await coalesceKey(req())).not.toBe(await coalesceKey(req({ factor: 'phone' })));
  expect(await coalesceKey(req())).not.toBe(await coalesceKey(req({ device: 'DPFZRS9FB0D46QFTM891' })));
  const p1 = await coalesceKey(req({ factor: 'passcode', passcode: '123456' }));
  expect(p1).toBe(await coalesceKey(req({ factor: 'passcode', passcode: '123456' })));
  expect(p1).not.toBe(await coalesceKey(req({ factor: 'passcode', passcode: '123457' })));
  expect(p1).not.toContain('123456');
});
