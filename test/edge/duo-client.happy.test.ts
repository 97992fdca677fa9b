import { afterEach, describe, expect, inject, it } from 'vitest';
import type { DuoIntegration } from '../../src/duo/api.ts';
import { createDuoClient } from '../../src/duo/client.ts';

const baseUrl = inject('duoBaseUrl');
const DEMO: DuoIntegration = {
  ikey: 'DIDEMOINTEGRATION000',
  skey: 'demoSecretKeyDemoSecretKeyDemoSecretKey0',
  apiHost: 'API-DEMO.duosecurity.com',
};
const within = (ms = 5000) => ({ deadline: Date.now() + ms });
const client = () => createDuoClient(DEMO, { baseUrl });

async function requests(): Promise<{
  requests: Array<{ endpoint: string; method: string; params: Record<string, string[]>; signature: string }>;
  pushes: Record<string, number>;
}> {
  return (await fetch(`${baseUrl}/_emulator/requests`)).json();
}

afterEach(async () => {
  await fetch(`${baseUrl}/_emulator/requests`, { method: 'DELETE' });
});

describe('Duo client against the emulator, in workerd', () => {
  it('pings unsigned and checks signed', async () => {
    const duo = client();
    const ping = await duo.ping(within());
    expect(ping.ok && Math.abs(ping.value.time * 1000 - Date.now()) < 60_000).toBe(true);
    expect(await duo.check(within())).toMatchObject({ ok: true, value: { time: expect.any(Number) } });
    // Only this test's endpoints: a request another file left in flight may land in the shared log.
    const log = (await requests()).requests.filter((r) => r.endpoint === 'ping' || r.endpoint === 'check');
    expect(log.map((r) => [r.endpoint, r.signature])).toEqual([
      ['ping', 'unsigned'],
      ['check', 'v5'],
    ]);
  });

  it('preauth: auth with devices and no prompt (none asked for); allow; deny; enroll', async () => {
    const duo = client();
    const alice = await duo.preauth({ username: 'alice', ipaddr: '192.0.2.10', hostname: 'vpn-1' }, within());
    expect(alice).toMatchObject({
      ok: true,
      value: {
        result: 'auth',
        devices: [{ device: 'DPALICE0000000000001', type: 'phone', capabilities: expect.arrayContaining(['push']) }],
      },
    });
    expect(alice.ok && alice.value.result === 'auth' && [alice.value.prompt, alice.value.factors]).toEqual([
      undefined,
      undefined,
    ]);
    const frank = await duo.preauth({ username: 'frank' }, within());
    expect(frank).toMatchObject({
      ok: true,
      value: { result: 'auth', devices: [{ type: 'token', capabilities: [] }] },
    });
    expect(await duo.preauth({ username: 'carol' }, within())).toMatchObject({ ok: true, value: { result: 'allow' } });
    expect(await duo.preauth({ username: 'dave' }, within())).toMatchObject({ ok: true, value: { result: 'deny' } });
    for (const username of ['erin', 'someone-new']) {
      const r = await duo.preauth({ username }, within());
      expect(r).toMatchObject({
        ok: true,
        value: { result: 'enroll', enroll_portal_url: expect.stringMatching(/^https:/) },
      });
    }
    const [first] = (await requests()).requests;
    expect(first).toMatchObject({
      endpoint: 'preauth',
      method: 'POST',
      signature: 'v5',
      params: { username: ['alice'], ipaddr: ['192.0.2.10'], hostname: ['vpn-1'] },
    });
  });

  it('auth (sync): push approved, push denied, push timed out, passcode, bypass', async () => {
    const duo = client();
    const push = { factor: 'push' as const, pushinfo: { from: 'VPN login', 'a&b': 'c=d' } };
    expect(await duo.auth({ username: 'alice', ...push }, within())).toEqual({
      ok: true,
      value: { result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' },
    });
    expect(await duo.auth({ username: 'bob', ...push }, within())).toMatchObject({
      ok: true,
      value: { result: 'deny', status: 'deny' },
    });
    expect(await duo.auth({ username: 'grace', factor: 'auto' }, within())).toMatchObject({
      ok: true,
      value: { result: 'deny', status: 'timeout' },
    });
    expect(await duo.auth({ username: 'frank', factor: 'passcode', passcode: '123456' }, within())).toMatchObject({
      ok: true,
      value: { result: 'allow' },
    });
    expect(await duo.auth({ username: 'frank', factor: 'passcode', passcode: '654321' }, within())).toMatchObject({
      ok: true,
      value: { result: 'deny', status: 'deny' },
    });
    expect(await duo.auth({ username: 'carol', factor: 'auto' }, within())).toMatchObject({
      ok: true,
      value: { result: 'allow', status: 'bypass' },
    });
    const log = await requests();
    expect(log.requests[0]?.params).toMatchObject({ device: ['auto'], pushinfo: ['a%26b=c%3Dd&from=VPN%20login'] });
    expect(log.requests[3]?.params.passcode).toEqual(['[redacted]']);
    expect(log.pushes).toEqual({ alice: 1, bob: 1, grace: 1 });
  });

  it('authAsync: async=1 then auth_status polling until the push is answered', async () => {
    const duo = client();
    const r = await duo.authAsync(
      { username: 'alice', factor: 'push', device: 'DPALICE0000000000001' },
      { ...within(), pollIntervalMs: 100 },
    );
    expect(r).toEqual({
      ok: true,
      value: { result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' },
    });
    const log = (await requests()).requests;
    expect(log[0]).toMatchObject({ endpoint: 'auth', params: { async: ['1'] } });
    expect(log.slice(1).every((e) => e.endpoint === 'auth_status' && e.method === 'GET' && e.signature === 'v5')).toBe(
      true,
    );
    expect(log.length).toBeGreaterThan(2);
    expect(
      await duo.authAsync({ username: 'bob', factor: 'push' }, { ...within(), pollIntervalMs: 100 }),
    ).toMatchObject({
      ok: true,
      value: { result: 'deny' },
    });
  });

  it('learns the clock offset from ping and signs with Duo time', async () => {
    // Local clock 10 minutes slow: Duo refuses the date until ping has taught the offset.
    const slow = () => Date.now() - 600_000;
    const duo = createDuoClient(DEMO, { baseUrl, now: slow });
    const deadline = () => ({ deadline: slow() + 5000 });
    expect(await duo.check(deadline())).toMatchObject({
      ok: false,
      error: { kind: 'http4xx', status: 401, code: 40103 },
    });
    expect((await duo.ping(deadline())).ok).toBe(true);
    expect(await duo.check(deadline())).toMatchObject({ ok: true });
  });
});
