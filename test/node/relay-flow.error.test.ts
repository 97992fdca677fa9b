import { REPLY } from '@duo-edge/contract/messages';
import type { AuthResponse, Failmode, PreauthResponse } from '@duo-edge/contract/wire';
import { describe, expect, it } from 'vitest';
import type { EdgeFailure, EdgeResult } from '../../local-relay/src/edge/result.ts';
import { ChallengeStore, type FlowOptions } from '../../local-relay/src/flow/index.ts';
import type { LoginOutcome, LoginRequest } from '../../local-relay/src/flow/types.ts';
import type { PrimaryAuthenticator, PrimaryOutcome } from '../../local-relay/src/primary/types.ts';
import { flowModes, recordingEdge, wireFlow } from '../support/flow-fixtures.ts';

const AUTH_PREAUTH: PreauthResponse = {
  result: 'auth',
  message: 'ok',
  source: 'duo',
  devices: [{ device: 'D1', type: 'phone', capabilities: ['push', 'phone', 'sms'] }],
  factors: { default: 'push1' },
};
const TOKEN_PREAUTH: PreauthResponse = {
  ...AUTH_PREAUTH,
  devices: [{ device: 'T1', type: 'token', capabilities: [] }],
  factors: {},
};

const MODES: Record<string, FlowOptions> = flowModes();
const PASSWORD: Record<string, string> = { auto: 'pw', challenge: 'pw', concat: 'pw,push' };

function setup(opts: {
  flow: FlowOptions;
  failmode?: Failmode;
  preauth?: EdgeResult<PreauthResponse>;
  auth?: EdgeResult<never> | EdgeResult<{ result: 'allow' | 'deny'; message: string; source: 'duo' }>;
  primary?: PrimaryOutcome | 'throw';
  now?: () => number;
}) {
  const { edge, calls: edgeCalls } = recordingEdge(
    () => opts.preauth ?? { kind: 'ok', value: AUTH_PREAUTH },
    () =>
      (opts.auth ?? {
        kind: 'ok',
        value: { result: 'allow', message: 'Success', source: 'duo' },
      }) as EdgeResult<AuthResponse>,
  );
  const calls = { ...edgeCalls, primary: 0 };
  const primary: PrimaryAuthenticator = {
    kind: 'users_file',
    async authenticate() {
      calls.primary++;
      if (opts.primary === 'throw') throw new Error('boom');
      return opts.primary ?? { kind: 'accept' };
    },
  };
  const { flow, decisions } = wireFlow(opts.flow, {
    primary,
    edge,
    policy: { failmode: () => opts.failmode ?? 'safe' },
    challenges: new ChallengeStore(opts.now ? { now: opts.now } : {}),
  });
  const send = (req: Partial<LoginRequest> & { username: string }) =>
    flow.handle({ nasIp: '192.0.2.10', loginId: 'login-1', ...req });
  return { send, calls, decisions };
}

const unreachable: EdgeFailure = { kind: 'transport', cause: 'refused' };
const timeout: EdgeFailure = { kind: 'transport', cause: 'timeout' };

describe('local failmode when the edge cannot answer at preauth', () => {
  const failures: Array<[string, EdgeFailure]> = [
    ['refused', unreachable],
    ['timeout', timeout],
    ['breaker open', { kind: 'transport', cause: 'breaker_open' }],
    ['reset', { kind: 'transport', cause: 'reset' }],
    ['5xx', { kind: 'http', status: 502 }],
  ];
  for (const mode of Object.keys(MODES)) {
    it.each(failures)(`${mode}: %s → safe accepts, secure rejects`, async (_, failure) => {
      const safe = setup({ flow: MODES[mode]!, failmode: 'safe', preauth: failure });
      expect(await safe.send({ username: 'u', password: PASSWORD[mode]! })).toEqual({
        code: 'accept',
        replyMessage: REPLY.failSafeAllowed,
      });
      expect(safe.decisions[0]).toMatchObject({ source: 'failmode-relay', stage: 'preauth', result: 'allow' });
      const secure = setup({ flow: MODES[mode]!, failmode: 'secure', preauth: failure });
      expect(await secure.send({ username: 'u', password: PASSWORD[mode]! })).toEqual({
        code: 'reject',
        replyMessage: REPLY.failSecureDenied,
      });
      expect(secure.calls.auth).toHaveLength(0);
    });
  }

  it.each([
    ['missing signature', { kind: 'unverified', detail: 'missing decision signature' }],
    ['bad signature', { kind: 'unverified', detail: 'decision signature does not verify' }],
    ['too large to verify', { kind: 'unverified', detail: 'response over 65536 bytes' }],
    ['signed but unparseable (version skew)', { kind: 'version_skew', detail: 'result: invalid' }],
    ['refused as misconfigured', { kind: 'http', status: 403, code: 'site_misconfigured' }],
  ] as Array<[string, EdgeFailure]>)('%s never fails open, even on a safe site', async (_, failure) => {
    const t = setup({ flow: MODES.auto!, failmode: 'safe', preauth: failure });
    expect(await t.send({ username: 'u', password: 'pw' })).toEqual({
      code: 'reject',
      replyMessage: REPLY.failSecureDenied,
    });
    expect(t.decisions[0]).toMatchObject({ source: 'failmode-relay', stage: 'preauth', result: 'deny' });
    expect(t.calls.auth).toHaveLength(0);
  });

  it('an edge 4xx (e.g. revoked key) never fails open', async () => {
    const t = setup({ flow: MODES.auto!, failmode: 'safe', preauth: { kind: 'http', status: 401 } });
    expect(await t.send({ username: 'u', password: 'pw' })).toEqual({
      code: 'reject',
      replyMessage: REPLY.failSecureDenied,
    });
  });

  it('a decision the edge made by its own failmode is used as given', async () => {
    const t = setup({
      flow: MODES.auto!,
      failmode: 'secure',
      preauth: { kind: 'ok', value: { result: 'allow', message: REPLY.failSafeAllowed, source: 'failmode-edge' } },
    });
    expect(await t.send({ username: 'u', password: 'pw' })).toEqual({
      code: 'accept',
      replyMessage: REPLY.failSafeAllowed,
    });
    expect(t.decisions[0]).toMatchObject({ source: 'failmode-edge' });
  });

  it('primary rejection comes first: failmode never lets a wrong password in', async () => {
    const t = setup({
      flow: MODES.auto!,
      failmode: 'safe',
      preauth: unreachable,
      primary: { kind: 'reject', reason: 'x' },
    });
    expect(await t.send({ username: 'u', password: 'pw' })).toEqual({
      code: 'reject',
      replyMessage: 'Primary credentials rejected',
    });
    expect(t.calls.preauth).toHaveLength(0);
  });
});

describe('auth stage failures fail closed', () => {
  it.each([
    ['refused', unreachable, REPLY.authFailure],
    ['timeout', timeout, REPLY.authTimeout],
    ['bad signature', { kind: 'unverified', detail: 'bad' } as EdgeFailure, REPLY.authFailure],
    ['too large to verify', { kind: 'unverified', detail: 'too large' } as EdgeFailure, REPLY.authFailure],
    ['signed but unparseable', { kind: 'version_skew', detail: 'x' } as EdgeFailure, REPLY.authFailure],
  ])('%s → %s even in safe mode', async (_, failure, message) => {
    const t = setup({ flow: MODES.auto!, failmode: 'safe', auth: failure as never });
    expect(await t.send({ username: 'u', password: 'pw' })).toEqual({ code: 'reject', replyMessage: message });
  });
});

describe('duo_only', () => {
  const duoOnly = (ack: boolean): FlowOptions => ({
    mode: 'duo_only',
    exemptUsernames: [],
    clientIpAttr: 'default',
    failOpenAcknowledged: ack,
  });

  it('tells the edge there was no primary and never fails open unless acknowledged', async () => {
    const t = setup({ flow: duoOnly(false), failmode: 'safe', preauth: unreachable });
    expect(await t.send({ username: 'u', password: 'push' })).toEqual({
      code: 'reject',
      replyMessage: REPLY.failSecureDenied,
    });
    expect(t.calls.primary).toBe(0);
    const ack = setup({ flow: duoOnly(true), failmode: 'safe', preauth: unreachable });
    expect(await ack.send({ username: 'u', password: 'push' })).toEqual({
      code: 'accept',
      replyMessage: REPLY.failSafeAllowed,
    });
  });

  it.each([
    ['an edge exemption', { message: REPLY.exempt, source: 'exempt' }],
    ['a primary-only override', { message: REPLY.override, source: 'override' }],
  ] as const)('never accepts on %s: no primary was checked', async (_name, waiver) => {
    const preauth = { kind: 'ok', value: { result: 'allow', ...waiver } } as const;
    const t = setup({ flow: duoOnly(true), failmode: 'safe', preauth });
    expect(await t.send({ username: 'svc-monitor', password: 'push' })).toEqual({
      code: 'reject',
      replyMessage: REPLY.failSecureDenied,
    });
    expect(t.calls.auth).toHaveLength(0);
  });

  it('refuses a password that is not a factor without calling the edge', async () => {
    const t = setup({ flow: duoOnly(false) });
    expect(await t.send({ username: 'u', password: 'not a factor!' })).toMatchObject({ code: 'reject' });
    expect(t.calls.preauth).toHaveLength(0);
  });
});

describe('request and primary errors', () => {
  for (const mode of Object.keys(MODES)) {
    it(`${mode}: missing username, missing or undecodable password, primary error`, async () => {
      const t = setup({ flow: MODES[mode]! });
      expect(await t.send({ username: '', password: 'x' })).toEqual({
        code: 'reject',
        replyMessage: 'No username provided',
      });
      const bad = { code: 'reject', replyMessage: 'Missing or improperly-formatted password' };
      expect(await t.send({ username: 'u', passwordError: 'missing' })).toEqual(bad);
      expect(await t.send({ username: 'u', passwordError: 'undecodable' })).toEqual(bad);
      expect(t.calls.primary).toBe(0);
      const down = setup({ flow: MODES[mode]!, primary: { kind: 'error', detail: 'LDAP server unreachable' } });
      expect(await down.send({ username: 'u', password: PASSWORD[mode]! })).toEqual({
        code: 'reject',
        replyMessage: 'Error performing primary authentication: LDAP server unreachable',
      });
      const throws = setup({ flow: MODES[mode]!, primary: 'throw' });
      expect(await throws.send({ username: 'u', password: PASSWORD[mode]! })).toMatchObject({ code: 'reject' });
    });
  }

  it('concat: a password without a factor is refused before any bind', async () => {
    const t = setup({ flow: MODES.concat! });
    for (const password of ['nodelimiter', ',push', 'pw,', 'pw,no such factor']) {
      expect(await t.send({ username: 'u', password })).toEqual({
        code: 'reject',
        replyMessage: 'Missing or improperly-formatted password',
      });
    }
    expect(t.calls.primary).toBe(0);
  });

  it('auto: a directory error on the split attempt is not retried with the whole password', async () => {
    const t = setup({ flow: MODES.auto!, primary: { kind: 'error', detail: 'timeout' } });
    await t.send({ username: 'u', password: 'pw,push' });
    expect(t.calls.primary).toBe(1);
  });
});

describe('challenge State', () => {
  async function passcodeChallenge(now?: () => number) {
    const flow: FlowOptions = { ...(MODES.auto as Extract<FlowOptions, { mode: 'auto' }>), factors: ['passcode'] };
    const t = setup({ flow, preauth: { kind: 'ok', value: TOKEN_PREAUTH }, ...(now ? { now } : {}) });
    const first = (await t.send({ username: 'frank', password: 'pw' })) as Extract<LoginOutcome, { code: 'challenge' }>;
    expect(first.code).toBe('challenge');
    return { t, state: first.state };
  }
  const unknown = { code: 'reject', replyMessage: REPLY.unknownChallenge };

  it('is single use', async () => {
    const { t, state } = await passcodeChallenge();
    expect(await t.send({ username: 'frank', password: '123456', state })).toMatchObject({ code: 'accept' });
    expect(await t.send({ username: 'frank', password: '123456', state })).toEqual(unknown);
    expect(t.calls.auth).toHaveLength(1);
  });

  it('is bound to the User-Name and the NAS address', async () => {
    const a = await passcodeChallenge();
    expect(await a.t.send({ username: 'mallory', password: '123456', state: a.state })).toEqual(unknown);
    const b = await passcodeChallenge();
    expect(await b.t.send({ username: 'frank', password: '123456', state: b.state, nasIp: '192.0.2.99' })).toEqual(
      unknown,
    );
    expect([...a.t.calls.auth, ...b.t.calls.auth]).toHaveLength(0);
  });

  it('expires after 300 s', async () => {
    let clock = 1_000_000;
    const { t, state } = await passcodeChallenge(() => clock);
    clock += 300_001;
    expect(await t.send({ username: 'frank', password: '123456', state })).toEqual(unknown);
  });

  it('an invented State is unknown', async () => {
    const { t } = await passcodeChallenge();
    expect(await t.send({ username: 'frank', password: '123456', state: new Uint8Array(32) })).toEqual(unknown);
  });
});
