import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { ok } from '@duo-edge/contract/result';
import { type AuthRequest, authRequestSchema } from '@duo-edge/contract/wire';
import { afterAll, afterEach, expect, it } from 'vitest';
import { gateAuth } from '../../src/coordination/gate-auth.ts';
import { userGateName } from '../../src/coordination/keys.ts';
import { type GateLimits, LIMIT_MESSAGE } from '../../src/coordination/limits.ts';
import type { AuthParams, DuoAuth, DuoClient } from '../../src/duo/api.ts';
import type { DuoResult } from '../../src/duo/result.ts';
import { gateDuo } from '../support/edge-worker.ts';
import { randomNonce } from '../support/relay-signer.ts';

/**
 * Through the real Durable Object (env.USER_GATE) and the real auth decision, with an in-process
 * Duo that the test controls: it answers when `duo.open` is set and counts every auth call.
 */

const limits: GateLimits = { push_per_window: 2, passcode_failures_per_window: 2, window_seconds: 600 };

const calls: AuthParams[] = [];
const approve: DuoResult<DuoAuth> = ok({ result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' });
/** Plain memory, not a promise: a promise made in the test cannot be settled from inside the
 * object (workerd keeps each object's I/O to itself). */
const duo = { open: true, answer: (_p: AuthParams, _n: number): DuoResult<DuoAuth> => approve };

async function duoAuth(params: AuthParams): Promise<DuoResult<DuoAuth>> {
  calls.push(params);
  const n = calls.length;
  for (let i = 0; i < 1000 && !duo.open; i++) await new Promise((r) => setTimeout(r, 5));
  return duo.answer(params, n);
}

const fakeDuo: DuoClient = {
  ping: async () => ok({ time: 0 }),
  check: async () => ok({ time: 0 }),
  preauth: async () => ok({ result: 'auth', status_msg: 'Account is active', devices: [] }),
  auth: duoAuth,
  authAsync: duoAuth,
};
gateDuo.client = fakeDuo;
afterAll(() => {
  gateDuo.client = null;
});

afterEach(() => {
  calls.length = 0;
  duo.open = true;
  duo.answer = () => approve;
});

/** One login (one Access-Request, so one login_id) unless the overrides say otherwise. */
const login = (username: string, overrides: Record<string, unknown> = {}): AuthRequest =>
  authRequestSchema.parse({
    username,
    factor: 'push',
    primary: 'passed',
    nas: { ip: '192.0.2.1', calling_station_id: '203.0.113.9' },
    login_id: 'a'.repeat(64),
    ...overrides,
  });

const RELAY_KEY = 'relay-key-under-test';

/** The gate as /v1/auth calls it, each call a fresh signed request (its own nonce). */
async function gate(site: string, request: AuthRequest, nonce = randomNonce()) {
  const r = await gateAuth(env.USER_GATE, { site, relayKey: RELAY_KEY, nonce }, request, limits);
  if (!r.ok) throw new Error(`gate refused: ${r.error}`);
  return r.value;
}

async function until(cond: () => boolean) {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

it('one login arriving twice (same login_id) causes one Duo call and both share its answer', async () => {
  duo.open = false;
  const first = gate('site-a', login('alice'));
  const second = gate('site-a', login('Alice'));
  await until(() => calls.length === 1);
  // Give the second request every chance to reach the object before Duo answers.
  await new Promise((r) => setTimeout(r, 100));
  duo.open = true;
  const [a, b] = await Promise.all([first, second]);
  expect(calls).toHaveLength(1);
  expect(calls[0]).toMatchObject({ username: 'alice', factor: 'push' });
  const approved = { result: 'allow', message: 'Success. Logging you in...', source: 'duo', status: 'allow' };
  expect(a.response).toEqual(approved);
  expect(b.response).toEqual(approved);
  expect([a.joined, b.joined].sort()).toEqual([false, true]);
});

it('two different logins from one endpoint (one NAS, no Calling-Station-Id) never share an answer', async () => {
  duo.open = false;
  duo.answer = (_p, n) => ok({ result: 'deny', status: 'deny', status_msg: `answer ${n}` });
  const nas = { ip: '192.0.2.1' };
  const a = gate('site-a', login('bob', { nas, login_id: '1'.repeat(64) }));
  const b = gate('site-a', login('bob', { nas, login_id: '2'.repeat(64) }));
  await until(() => calls.length === 2);
  duo.open = true;
  const [ra, rb] = await Promise.all([a, b]);
  expect([ra.joined, rb.joined]).toEqual([false, false]);
  expect([ra.response.message, rb.response.message].sort()).toEqual(['answer 1', 'answer 2']);
});

it('a replayed request (same relay key and nonce) is refused before Duo and before the limits', async () => {
  const nonce = randomNonce();
  expect((await gate('site-a', login('grace', { login_id: '3'.repeat(64) }), nonce)).response.result).toBe('allow');
  const again = await gateAuth(
    env.USER_GATE,
    { site: 'site-a', relayKey: RELAY_KEY, nonce },
    login('grace', { login_id: '3'.repeat(64) }),
    limits,
  );
  expect(again).toEqual({ ok: false, error: 'replayed' });
  expect(calls).toHaveLength(1);
  // Another relay key may use the same nonce value: the seen-set is per key.
  const other = await gateAuth(
    env.USER_GATE,
    { site: 'site-a', relayKey: 'another-relay-key', nonce },
    login('grace', { login_id: '3'.repeat(64) }),
    limits,
  );
  expect(other.ok).toBe(true);
});

it('the same user at two sites has two gates', async () => {
  duo.open = false;
  const a = gate('site-a', login('carol'));
  const b = gate('site-b', login('carol'));
  await until(() => calls.length === 2);
  duo.open = true;
  expect((await Promise.all([a, b])).map((o) => o.joined)).toEqual([false, false]);
  expect(calls).toHaveLength(2);
});

it('denies the push after the limit as a policy decision, and allows again once the window has passed', async () => {
  const stub = env.USER_GATE.getByName(userGateName('site-a', 'dave'));
  for (let i = 0; i < 2; i++) {
    expect((await gate('site-a', login('dave'))).response.result).toBe('allow');
  }
  const limited = await gate('site-a', login('dave'));
  expect(limited).toEqual({ response: { result: 'deny', message: LIMIT_MESSAGE, source: 'policy' }, joined: false });
  expect(calls).toHaveLength(2);
  // Age the stored attempts past the window (the object's clock is the runtime's).
  await runInDurableObject(stub, (_gate, state) => {
    state.storage.sql.exec('UPDATE attempts SET at = at - ?', limits.window_seconds * 1000);
  });
  expect((await gate('site-a', login('dave'))).response.result).toBe('allow');
  expect(calls).toHaveLength(3);
});

it('limits wrong passcodes but not failmode denies', async () => {
  const passcode = (p: string) => login('erin', { factor: 'passcode', passcode: p });
  // Duo unreachable during auth: a failmode deny, not a wrong guess.
  duo.answer = () => ({ ok: false, error: { kind: 'transport', reason: 'network', detail: 'connection reset' } });
  for (let i = 0; i < 3; i++) {
    const r = await gate('site-a', passcode(`00000${i}`));
    expect(r.response).toMatchObject({ result: 'deny', source: 'failmode-edge' });
  }
  duo.answer = () => ok({ result: 'deny', status: 'deny', status_msg: 'Incorrect passcode' });
  for (let i = 0; i < 2; i++) await gate('site-a', passcode(`11111${i}`));
  expect(calls).toHaveLength(5);
  const limited = await gate('site-a', passcode('123456'));
  expect(limited.response).toEqual({ result: 'deny', message: LIMIT_MESSAGE, source: 'policy' });
  expect(calls).toHaveLength(5);
});
