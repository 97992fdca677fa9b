import { REPLY } from '@duo-edge/contract/messages';
import type { AuthRequest, AuthResponse, Device, PreauthRequest, PreauthResponse } from '@duo-edge/contract/wire';
import { describe, expect, it } from 'vitest';
import type { EdgeResult } from '../../local-relay/src/edge/result.ts';
import type { FlowOptions } from '../../local-relay/src/flow/index.ts';
import type { LoginOutcome, LoginRequest } from '../../local-relay/src/flow/types.ts';
import type { PrimaryAuthenticator } from '../../local-relay/src/primary/types.ts';
import { flowModes, recordingEdge, wireFlow } from '../support/flow-fixtures.ts';

const PUSH_PHONE: Device = { device: 'DPHONE1', type: 'phone', capabilities: ['auto', 'push', 'sms', 'phone'] };
const SECOND_PHONE: Device = { device: 'DPHONE2', type: 'phone', capabilities: ['auto', 'push', 'phone'] };
const TOKEN: Device = { device: 'DTOKEN1', type: 'token', capabilities: [] };

const authPreauth = (devices: Device[], extra: Partial<Extract<PreauthResponse, { result: 'auth' }>> = {}) =>
  ({
    result: 'auth',
    message: 'Account is active',
    source: 'duo',
    devices,
    factors: devices.some((d) => d.capabilities.includes('push'))
      ? { default: 'push1', '1': 'push1', '2': 'phone1' }
      : {},
    ...extra,
  }) as PreauthResponse;

/** Duo's answer to an auth: a passcode other than 123456 is wrong, anything else approved. */
const PASSCODE_AUTH = (r: AuthRequest): EdgeResult<AuthResponse> =>
  r.factor === 'passcode' && r.passcode !== '123456'
    ? { kind: 'ok', value: { result: 'deny', message: 'Incorrect passcode. Please try again.', source: 'duo' } }
    : { kind: 'ok', value: { result: 'allow', message: 'Success. Logging you in...', source: 'duo', status: 'allow' } };

const DEFAULT_PREAUTH = (r: PreauthRequest): EdgeResult<PreauthResponse> => {
  switch (r.username) {
    case 'carol':
      return { kind: 'ok', value: { result: 'allow', message: 'Bypass user', source: 'duo' } };
    case 'dave':
      return { kind: 'ok', value: { result: 'deny', message: 'Your account is locked', source: 'duo' } };
    case 'erin':
      return { kind: 'ok', value: { result: 'enroll', message: 'Enroll at https://enroll.example', source: 'duo' } };
    case 'frank':
      return { kind: 'ok', value: authPreauth([TOKEN]) };
    case 'heidi':
      return { kind: 'ok', value: authPreauth([PUSH_PHONE, SECOND_PHONE]) };
    default:
      return { kind: 'ok', value: authPreauth([PUSH_PHONE]) };
  }
};

function fakePrimary(users: Record<string, string>) {
  const calls: string[] = [];
  const primary: PrimaryAuthenticator = {
    kind: 'users_file',
    async authenticate(req) {
      calls.push(`${req.username}:${req.password}`);
      return users[req.username] === req.password ? { kind: 'accept' } : { kind: 'reject', reason: 'wrong password' };
    },
  };
  return { primary, calls };
}

const USERS = {
  alice: 'alice-pass',
  bob: 'bob-pass',
  carol: 'carol-pass',
  dave: 'dave-pass',
  erin: 'erin-pass',
  frank: 'frank-pass',
  heidi: 'heidi-pass',
  'a,b': 'x',
};

const { auto: AUTO, challenge: CHALLENGE, concat: CONCAT } = flowModes(['svc-backup']);
const DUO_ONLY: FlowOptions = {
  mode: 'duo_only',
  exemptUsernames: [],
  clientIpAttr: 'default',
  failOpenAcknowledged: false,
};

function setup(opts: FlowOptions, edgeFns?: Parameters<typeof recordingEdge>) {
  const [preauth, auth = PASSCODE_AUTH] = edgeFns ?? [DEFAULT_PREAUTH];
  const { edge, calls } = recordingEdge(preauth, auth);
  const { primary, calls: primaryCalls } = fakePrimary({ ...USERS, 'svc-backup': 'svc-pass' });
  const { flow, decisions, challenges } = wireFlow(opts, { primary, edge });
  const send = (username: string, password: string | undefined, extra: Partial<LoginRequest> = {}) =>
    flow.handle({
      username,
      ...(password === undefined ? { passwordError: 'missing' } : { password }),
      nasIp: '192.0.2.10',
      loginId: 'login-1',
      callingStationId: '198.51.100.7',
      ...extra,
    });
  return { flow, send, calls, primaryCalls, decisions, challenges };
}

const accepted = (message: string) => ({ code: 'accept', replyMessage: message });
const rejected = (message: string) => ({ code: 'reject', replyMessage: message });

describe('login flows: one-shot outcomes, table-driven over modes', () => {
  const cases: Array<{ name: string; opts: FlowOptions; user: string; password: string; want: object; auths: number }> =
    [
      {
        name: 'auto: push approved',
        opts: AUTO,
        user: 'alice',
        password: 'alice-pass',
        want: accepted('Success. Logging you in...'),
        auths: 1,
      },
      {
        name: 'auto: bypass user',
        opts: AUTO,
        user: 'carol',
        password: 'carol-pass',
        want: accepted('Bypass user'),
        auths: 0,
      },
      {
        name: 'auto: locked out',
        opts: AUTO,
        user: 'dave',
        password: 'dave-pass',
        want: rejected('Your account is locked'),
        auths: 0,
      },
      {
        name: 'auto: not enrolled',
        opts: AUTO,
        user: 'erin',
        password: 'erin-pass',
        want: rejected('Enroll at https://enroll.example'),
        auths: 0,
      },
      {
        name: 'auto: token only, factors=auto',
        opts: AUTO,
        user: 'frank',
        password: 'frank-pass',
        want: rejected(REPLY.noFactors),
        auths: 0,
      },
      {
        name: 'auto: concat push',
        opts: AUTO,
        user: 'alice',
        password: 'alice-pass,push',
        want: accepted('Success. Logging you in...'),
        auths: 1,
      },
      {
        name: 'auto: concat passcode',
        opts: AUTO,
        user: 'frank',
        password: 'frank-pass,123456',
        want: accepted('Success. Logging you in...'),
        auths: 1,
      },
      {
        name: 'auto: exempt',
        opts: AUTO,
        user: 'svc-backup',
        password: 'svc-pass',
        want: accepted(REPLY.exempt),
        auths: 0,
      },
      {
        name: 'concat: push',
        opts: CONCAT,
        user: 'alice',
        password: 'alice-pass,push',
        want: accepted('Success. Logging you in...'),
        auths: 1,
      },
      {
        name: 'concat: wrong passcode',
        opts: CONCAT,
        user: 'frank',
        password: 'frank-pass,999999',
        want: rejected('Incorrect passcode. Please try again.'),
        auths: 1,
      },
      {
        name: 'concat: exempt',
        opts: CONCAT,
        user: 'svc-backup',
        password: 'svc-pass,push',
        want: accepted(REPLY.exempt),
        auths: 0,
      },
      {
        name: 'duo_only: push',
        opts: DUO_ONLY,
        user: 'alice',
        password: 'push',
        want: accepted('Success. Logging you in...'),
        auths: 1,
      },
      {
        name: 'duo_only: passcode',
        opts: DUO_ONLY,
        user: 'frank',
        password: '123456',
        want: accepted('Success. Logging you in...'),
        auths: 1,
      },
      {
        name: 'challenge: bypass user',
        opts: CHALLENGE,
        user: 'carol',
        password: 'carol-pass',
        want: accepted('Bypass user'),
        auths: 0,
      },
      {
        name: 'challenge: exempt',
        opts: CHALLENGE,
        user: 'svc-backup',
        password: 'svc-pass',
        want: accepted(REPLY.exempt),
        auths: 0,
      },
    ];
  it.each(cases)('$name', async ({ opts, user, password, want, auths }) => {
    const t = setup(opts);
    expect(await t.send(user, password)).toEqual(want);
    expect(t.calls.auth).toHaveLength(auths);
  });
});

describe('auto mode', () => {
  it('sends the configured factor and the client IP from Calling-Station-Id', async () => {
    const t = setup({ ...AUTO, factors: ['push'] });
    await t.send('alice', 'alice-pass');
    expect(t.calls.preauth[0]).toMatchObject({
      username: 'alice',
      client_ip: '198.51.100.7',
      primary: 'passed',
      nas: { ip: '192.0.2.10' },
    });
    expect(t.calls.auth[0]).toMatchObject({
      factor: 'push',
      device: 'auto',
      primary: 'passed',
      client_ip: '198.51.100.7',
    });
  });

  it('resolves push2 to the second phone', async () => {
    const t = setup(AUTO);
    expect(await t.send('heidi', 'heidi-pass,push2')).toEqual(accepted('Success. Logging you in...'));
    expect(t.calls.auth[0]).toMatchObject({ factor: 'push', device: 'DPHONE2' });
  });

  it('passcode factor: Access-Challenge, then the next password is the passcode', async () => {
    const t = setup({ ...AUTO, factors: ['auto', 'passcode'] });
    const first = await t.send('frank', 'frank-pass');
    expect(first).toMatchObject({ code: 'challenge', replyMessage: REPLY.enterPasscode });
    const state = (first as Extract<LoginOutcome, { code: 'challenge' }>).state;
    expect(state).toHaveLength(32);
    expect(await t.send('frank', '123456', { state })).toEqual(accepted('Success. Logging you in...'));
    expect(t.calls.auth).toEqual([expect.objectContaining({ factor: 'passcode', passcode: '123456' })]);
    expect(t.primaryCalls).toEqual(['frank:frank-pass']);
  });

  it('delimited_password_length splits at the length and drops a delimiter after it', async () => {
    const t = setup({ ...AUTO, delimitedPasswordLength: 10 });
    expect(await t.send('alice', 'alice-pass,push')).toEqual(accepted('Success. Logging you in...'));
    expect(t.primaryCalls).toEqual(['alice:alice-pass']);
  });

  it('a suffix that is a factor but the left part fails: whole-password retry (Duo parity)', async () => {
    const t = setup(AUTO);
    expect(await t.send('alice', 'wrong,push')).toEqual(rejected('Primary credentials rejected'));
    expect(t.primaryCalls).toEqual(['alice:wrong', 'alice:wrong,push']);
  });

  it('a password containing the delimiter but no factor suffix costs exactly one bind', async () => {
    const t = setup(AUTO);
    expect(await t.send('a,b', 'x')).toEqual(accepted('Success. Logging you in...'));
    const t2 = setup(AUTO);
    expect(await t2.send('bob', 'my,secret')).toEqual(rejected('Primary credentials rejected'));
    expect(t2.primaryCalls).toEqual(['bob:my,secret']);
  });

  it('allow_concat=false never splits', async () => {
    const t = setup({ ...AUTO, allowConcat: false });
    expect(await t.send('alice', 'alice-pass,push')).toEqual(rejected('Primary credentials rejected'));
    expect(t.primaryCalls).toEqual(['alice:alice-pass,push']);
  });
});

describe('challenge mode', () => {
  it('builds the numbered menu from the devices, as Duo text prompt reads, and maps options to devices', async () => {
    const t = setup(CHALLENGE, [
      () => ({ kind: 'ok', value: authPreauth([PUSH_PHONE, SECOND_PHONE], { factors: {} }) }),
    ]);
    const first = await t.send('heidi', 'heidi-pass');
    const menu = (first as Extract<LoginOutcome, { code: 'challenge' }>).replyMessage;
    expect(menu).toMatch(
      /^Duo two-factor login for heidi\n\nEnter a passcode or select one of the following options:\n\n 1\. Duo Push to /,
    );
    expect(
      menu
        .split('\n')
        .filter((l) => /^ \d\. /.test(l))
        .map((l) => l.replace(/ to .*/, '')),
    ).toEqual([' 1. Duo Push', ' 2. Phone call', ' 3. SMS passcodes', ' 4. Duo Push', ' 5. Phone call']);
    expect(menu.endsWith('\n\nPasscode or option (1-5): ')).toBe(true);
    const state = (first as Extract<LoginOutcome, { code: 'challenge' }>).state;
    expect(await t.send('heidi', '4', { state })).toEqual(accepted('Success. Logging you in...'));
    expect(t.calls.auth[0]).toMatchObject({ factor: 'push', device: SECOND_PHONE.device });
  });

  it('an option number outside the menu is an unknown challenge and never reaches Duo as a passcode', async () => {
    const t = setup(CHALLENGE);
    const first = (await t.send('alice', 'alice-pass')) as Extract<LoginOutcome, { code: 'challenge' }>;
    expect(await t.send('alice', '7', { state: first.state })).toEqual(rejected(REPLY.unknownChallenge));
    expect(t.calls.auth).toEqual([]);
  });

  it.each([
    [
      'html',
      /^Duo two-factor login for alice<br><br>Enter a passcode .*<br>1\. Duo Push to DPHONE1<br>.*Passcode or option \(1-3\):$/,
    ],
    ['short', /^Choose a secondary factor from \('1', '2', '3'\) or enter passcode:$/],
  ] as const)('prompt_format %s', async (promptFormat, expected) => {
    const t = setup({ ...CHALLENGE, promptFormat });
    const first = (await t.send('alice', 'alice-pass')) as Extract<LoginOutcome, { code: 'challenge' }>;
    expect(first.replyMessage).toMatch(expected);
  });

  it('a passcode answer goes to /v1/auth as a passcode', async () => {
    const t = setup(CHALLENGE);
    const first = (await t.send('frank', 'frank-pass')) as Extract<LoginOutcome, { code: 'challenge' }>;
    expect(first.replyMessage).toBe('Enter passcode:');
    expect(await t.send('frank', '123456', { state: first.state })).toEqual(accepted('Success. Logging you in...'));
  });

  it('falls back to the short prompt above 253 octets', async () => {
    const many = Array.from({ length: 4 }, (_, i) => ({
      ...PUSH_PHONE,
      device: `DPHONE${i}`,
      number: `XXX-XXX-000${i}`,
    }));
    const t = setup(CHALLENGE, [() => ({ kind: 'ok', value: authPreauth(many) })]);
    const first = await t.send('alice', 'alice-pass');
    expect(first).toMatchObject({
      replyMessage: `Choose a secondary factor from (${['1', '10', '11', '12', ...'23456789'].map((k) => `'${k}'`).join(', ')}) or enter passcode:`,
    });
  });

  it('sms: SMS sent, the same prompt comes back with a new State', async () => {
    const t = setup(CHALLENGE, [
      DEFAULT_PREAUTH,
      (r) =>
        r.factor === 'sms'
          ? { kind: 'ok', value: { result: 'deny', message: 'New SMS passcodes sent.', source: 'duo', status: 'sent' } }
          : { kind: 'ok', value: { result: 'allow', message: 'ok', source: 'duo' } },
    ]);
    const first = (await t.send('alice', 'alice-pass')) as Extract<LoginOutcome, { code: 'challenge' }>;
    const second = (await t.send('alice', 'sms', { state: first.state })) as Extract<
      LoginOutcome,
      { code: 'challenge' }
    >;
    expect(second.code).toBe('challenge');
    expect(second.replyMessage).toBe(first.replyMessage);
    expect(second.state).not.toEqual(first.state);
    expect(await t.send('alice', '654321', { state: second.state })).toEqual(accepted('ok'));
  });

  it('enroll_challenge: the enrollment text in a challenge, any answer rejected', async () => {
    const t = setup(CHALLENGE);
    const first = (await t.send('erin', 'erin-pass')) as Extract<LoginOutcome, { code: 'challenge' }>;
    expect(first).toMatchObject({ code: 'challenge', replyMessage: 'Enroll at https://enroll.example' });
    expect(await t.send('erin', 'anything', { state: first.state })).toEqual(rejected(REPLY.enrollAgain));
  });

  it('enroll_challenge=false rejects with the enrollment text', async () => {
    const t = setup({ ...CHALLENGE, enrollChallenge: false } as FlowOptions);
    expect(await t.send('erin', 'erin-pass')).toEqual(rejected('Enroll at https://enroll.example'));
  });
});

describe('onDecision', () => {
  it('reports every decision with user, client ip, stage, factor, result, source and latency', async () => {
    const t = setup(AUTO);
    await t.send('alice', 'alice-pass,push');
    await t.send('svc-backup', 'svc-pass');
    expect(t.decisions).toEqual([
      expect.objectContaining({
        mode: 'auto',
        username: 'alice',
        client_ip: '198.51.100.7',
        nas_ip: '192.0.2.10',
        stage: 'auth',
        factor: 'push',
        result: 'allow',
        source: 'duo',
        reason: 'Success. Logging you in...',
      }),
      expect.objectContaining({
        username: 'svc-backup',
        stage: 'primary',
        result: 'allow',
        source: 'exempt',
        reason: REPLY.exempt,
      }),
    ]);
    for (const d of t.decisions) {
      expect(d.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(d.latency_ms).toBeGreaterThanOrEqual(0);
    }
    expect(t.decisions[0]!.id).not.toBe(t.decisions[1]!.id);
  });
});

describe('login_id on /v1/auth', () => {
  it('challenge: the answer packet identifies the login that asks Duo', async () => {
    const t = setup(CHALLENGE);
    const first = await t.send('alice', 'alice-pass', { loginId: 'first-packet' });
    if (first.code !== 'challenge') throw new Error('expected a challenge');
    await t.send('alice', '1', { loginId: 'answer-packet', state: first.state });
    expect(t.calls.auth.map((a) => a.login_id)).toEqual(['answer-packet']);
  });

  it('auto and concat: the login its one Access-Request carries', async () => {
    for (const opts of [CONCAT, AUTO]) {
      const t = setup(opts);
      await t.send('alice', 'alice-pass,push', { loginId: `only-packet-${opts.mode}` });
      expect(t.calls.auth.map((a) => a.login_id)).toEqual([`only-packet-${opts.mode}`]);
    }
  });
});
