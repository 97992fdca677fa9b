import type { PreauthResponse } from '@duo-edge/contract/wire';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowOptions } from '../../local-relay/src/flow/index.ts';
import { MAX_PRIMARY_CHALLENGE_ROUNDS } from '../../local-relay/src/flow/login.ts';
import type { LoginOutcome, LoginRequest } from '../../local-relay/src/flow/types.ts';
import { PrimaryAdmission } from '../../local-relay/src/primary/admission.ts';
import {
  createRadiusUpstreamPrimary,
  type RadiusUpstreamConfigInput,
} from '../../local-relay/src/primary/radius-upstream.ts';
import {
  Attr,
  Code,
  type DecodedPacket,
  decodeText,
  getAttribute,
  getAttributes,
  type RadiusAttribute,
  textAttribute,
  unhidePassword,
} from '../../local-relay/src/radius/index.ts';
import { flowModes, recordingEdge, wireFlow } from '../support/flow-fixtures.ts';
import {
  captureLogger,
  enc,
  type FakeReply,
  fakeUpstream,
  msChapV2NasRequest,
  nasRequest,
  upstreamConfig,
} from '../support/radius-upstream-fixtures.ts';

/**
 * An upstream RADIUS primary that answers with an Access-Challenge (a token's next code, an NPS
 * prompt): the real upstream client against an in-process upstream, under the real login flows.
 * The NAS only ever sees the relay's own State; the upstream's stays on the relay, bound to the
 * NAS, client and User-Name, single use; Duo is asked only once the upstream has accepted.
 */

const SECRET = 'fake-upstream-secret-challenge-01';
const UPSTREAM_STATE = enc('upstream-state-1');
const SECOND_STATE = enc('upstream-state-2');
/** RFC 2869 §5.10 Prompt = Echo; RFC 2865 §5.27 Session-Timeout 120 s (both 4-octet integers). */
const PROMPT_ECHO: RadiusAttribute = { type: Attr.Prompt, value: Uint8Array.of(0, 0, 0, 1) };
const SESSION_TIMEOUT: RadiusAttribute = { type: Attr.SessionTimeout, value: Uint8Array.of(0, 0, 0, 120) };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const password = (p: DecodedPacket) => {
  const hidden = getAttribute(p, Attr.UserPassword);
  const plain = hidden && unhidePassword(hidden, enc(SECRET), p.authenticator);
  return plain?.ok ? decodeText(plain.value) : undefined;
};
const stateOf = (p: DecodedPacket) => {
  const s = getAttribute(p, Attr.State);
  return s && decodeText(s);
};

/** `tok`: password, then the next token code 123456. `pin`: password, new PIN 4321, then code 654321. */
function tokenServer(p: DecodedPacket): FakeReply {
  const user = decodeText(getAttribute(p, Attr.UserName)!);
  const answer = password(p);
  const challenge = (state: Uint8Array, text: string): FakeReply => ({
    code: Code.AccessChallenge,
    attributes: [
      textAttribute(Attr.ReplyMessage, text),
      { type: Attr.State, value: state },
      PROMPT_ECHO,
      SESSION_TIMEOUT,
      textAttribute(Attr.FilterId, 'only-in-accept'),
    ],
  });
  switch (stateOf(p)) {
    case undefined:
      // No User-Password: an MS-CHAPv2 request, which this server challenges too.
      if (answer === undefined || answer === 'tok-pass' || answer === 'pin-pass' || answer === 'loop-pass') {
        return challenge(UPSTREAM_STATE, user === 'pin' ? 'Enter a new PIN' : 'Enter next token code');
      }
      return { code: Code.AccessReject };
    case 'upstream-state-1':
      if (user === 'loop') return challenge(UPSTREAM_STATE, 'Again');
      if (user === 'pin' && answer === '4321') return challenge(SECOND_STATE, 'Enter next token code');
      if (user !== 'pin' && answer === '123456') {
        return { code: Code.AccessAccept, attributes: [textAttribute(Attr.FilterId, 'vpn-token')] };
      }
      return { code: Code.AccessReject, attributes: [textAttribute(Attr.ReplyMessage, 'Wrong code')] };
    case 'upstream-state-2':
      return answer === '654321'
        ? { code: Code.AccessAccept, attributes: [textAttribute(Attr.FilterId, 'vpn-token')] }
        : { code: Code.AccessReject };
    default:
      return { code: Code.AccessReject };
  }
}

const PUSH_PREAUTH: PreauthResponse = {
  result: 'auth',
  message: 'Account is active',
  source: 'duo',
  devices: [{ device: 'DPTOK', type: 'phone', number: 'XXX-XXX-0001', capabilities: ['push'] }],
  factors: { default: 'push1' },
};

/** The upstream client over these local ports, closed after the test. */
function primaryOver(ports: number[], logger = captureLogger().logger, extra: Partial<RadiusUpstreamConfigInput> = {}) {
  const primary = createRadiusUpstreamPrimary(
    upstreamConfig({ hosts: ports.map((p) => `127.0.0.1:${p}`), secret: SECRET, ...extra }),
    { logger },
  );
  cleanups.push(() => primary.close!());
  return primary;
}

/** A PAP login as the relay's server hands it to the primary. */
const papLogin = (password: string) => ({
  username: 'tok',
  password,
  clientIp: '127.0.0.1',
  raw: nasRequest({ username: 'tok', password }).raw,
});

async function setup(opts: FlowOptions, edgeDown = false, admission?: PrimaryAdmission) {
  const upstream = await fakeUpstream(SECRET, tokenServer);
  cleanups.push(upstream.close);
  const { logger, lines } = captureLogger();
  const primary = primaryOver([upstream.port], logger, {
    retry_wait_ms: 200,
    retries: 1,
    pass_through_attr_names: ['Filter-Id', 'Session-Timeout'],
  });
  const { edge, calls } = edgeDown
    ? recordingEdge(() => ({ kind: 'transport', cause: 'refused' }))
    : recordingEdge(() => ({ kind: 'ok', value: PUSH_PREAUTH }));
  const { flow, decisions } = wireFlow(opts, { primary, edge, logger, ...(admission ? { admission } : {}) });
  /** A NAS request as the relay's server hands it to the flow (`raw` for the upstream client). */
  const send = (username: string, pw: string, extra: Partial<LoginRequest> = {}): Promise<LoginOutcome> =>
    flow.handle({
      username,
      ...(pw === '' ? {} : { password: pw }),
      nasIp: '192.0.2.10',
      client: 'vpn',
      loginId: `login-${Math.random()}`,
      raw: nasRequest({ username, password: pw }).raw,
      ...extra,
    });
  return { send, upstream, calls, lines, decisions };
}

function challenged(o: LoginOutcome): Extract<LoginOutcome, { code: 'challenge' }> {
  if (o.code !== 'challenge') throw new Error(`expected a challenge, got ${JSON.stringify(o)}`);
  return o;
}

const { auto: AUTO, challenge: CHALLENGE, concat: CONCAT } = flowModes();

describe('an upstream Access-Challenge relayed to the NAS', () => {
  it('auto: the question, Prompt and Session-Timeout reach the NAS under a relay State; the answer goes upstream with the upstream State; Duo only after the Accept', async () => {
    const t = await setup(AUTO);
    const first = challenged(await t.send('tok', 'tok-pass'));
    expect(first.replyMessage).toBe('Enter next token code');
    expect(first.state).toHaveLength(32);
    expect(Buffer.from(first.state).includes(Buffer.from(UPSTREAM_STATE))).toBe(false);
    // Prompt and the named Session-Timeout may ride on a challenge; Filter-Id waits for the Accept.
    expect(first.attributes?.map((a) => a.type)).toEqual([Attr.Prompt, Attr.SessionTimeout]);
    expect(t.calls.preauth).toEqual([]);
    // The upstream's text (a system-generated PIN, say) never reaches the auth-event log.
    expect(t.decisions).toMatchObject([
      { stage: 'primary', result: 'challenge', source: 'primary', reason: 'Access-Challenge from the primary' },
    ]);

    const done = await t.send('tok', '123456', { state: first.state });
    expect(done).toMatchObject({ code: 'accept', replyMessage: 'Success. Logging you in...' });
    expect(done.code === 'accept' && done.attributes?.map((a) => decodeText(a.value))).toEqual(['vpn-token']);
    expect(t.calls.preauth).toHaveLength(1);
    expect(t.calls.auth).toHaveLength(1);
    const [, answer] = t.upstream.received;
    expect(password(answer!)).toBe('123456');
    expect(stateOf(answer!)).toBe('upstream-state-1');
    // The relay's State never goes upstream.
    expect(getAttributes(answer!, Attr.State)).toHaveLength(1);
  });

  it('two rounds (new PIN, then the next code) before Duo', async () => {
    const t = await setup(AUTO);
    const first = challenged(await t.send('pin', 'pin-pass'));
    expect(first.replyMessage).toBe('Enter a new PIN');
    const second = challenged(await t.send('pin', '4321', { state: first.state }));
    expect(second.replyMessage).toBe('Enter next token code');
    expect(Buffer.from(second.state).equals(Buffer.from(first.state))).toBe(false);
    expect(t.calls.preauth).toEqual([]);
    expect(await t.send('pin', '654321', { state: second.state })).toMatchObject({ code: 'accept' });
    expect(t.calls.auth).toHaveLength(1);
  });

  it('a wrong answer: Reject "Primary credentials rejected", Duo never asked', async () => {
    const t = await setup(AUTO);
    const first = challenged(await t.send('tok', 'tok-pass'));
    expect(await t.send('tok', '000000', { state: first.state })).toEqual({
      code: 'reject',
      replyMessage: 'Primary credentials rejected',
    });
    expect(t.calls).toEqual({ preauth: [], auth: [] });
  });

  it('failmode safe with the edge down: nothing opens mid-challenge, and a rejected answer stays rejected', async () => {
    const t = await setup(AUTO, true);
    const first = challenged(await t.send('tok', 'tok-pass'));
    expect(t.calls.preauth).toEqual([]);
    expect(await t.send('tok', '000000', { state: first.state })).toMatchObject({ code: 'reject' });
    expect(t.calls.preauth).toEqual([]);
    // Only the upstream's Accept passes the primary; then the site failmode applies as usual.
    const again = challenged(await t.send('tok', 'tok-pass'));
    expect(await t.send('tok', '123456', { state: again.state })).toMatchObject({
      code: 'accept',
      replyMessage: 'Failmode Safe - Allowed Duo login on preauth failure',
    });
  });

  it('challenge mode: the upstream’s question first, then Duo’s menu', async () => {
    const t = await setup(CHALLENGE);
    const first = challenged(await t.send('tok', 'tok-pass'));
    expect(first.replyMessage).toBe('Enter next token code');
    const menu = challenged(await t.send('tok', '123456', { state: first.state }));
    expect(menu.replyMessage).toMatch(/Passcode or option \(1-1\): $/);
    expect(await t.send('tok', '1', { state: menu.state })).toMatchObject({ code: 'accept' });
    expect(t.calls.auth.map((a) => a.factor)).toEqual(['push']);
  });

  it('auto with a concat suffix: the suffix waits through the challenge and picks the factor', async () => {
    const t = await setup({ ...AUTO, factors: ['passcode'] });
    const first = challenged(await t.send('tok', 'tok-pass,push'));
    expect(password(t.upstream.received[0]!)).toBe('tok-pass');
    expect(await t.send('tok', '123456', { state: first.state })).toMatchObject({ code: 'accept' });
    expect(t.calls.auth.map((a) => a.factor)).toEqual(['push']);
  });
});

describe('an answer the relay has no slot to check yet', () => {
  it('is dropped for the NAS to retransmit, and the retransmit still continues the exchange', async () => {
    const admission = new PrimaryAdmission({ overall: 1, perClient: 1 });
    const t = await setup(AUTO, false, admission);
    const first = challenged(await t.send('tok', 'tok-pass'));
    // Another check holds the only slot.
    const release = admission.tryEnter('another-nas')!;
    expect(await t.send('tok', '123456', { state: first.state })).toEqual({ code: 'drop', reason: 'primary_busy' });
    release();
    expect(await t.send('tok', '123456', { state: first.state })).toMatchObject({ code: 'accept' });
    // Used now: a second answer is refused.
    expect(await t.send('tok', '123456', { state: first.state })).toMatchObject({ replyMessage: 'Unknown Challenge' });
  });
});

describe('a State that is not this login’s own', () => {
  it('another user, NAS or client cannot continue it, and it is spent', async () => {
    const t = await setup(AUTO);
    const foreigners: Array<[string, Partial<LoginRequest>]> = [
      ['pin', {}],
      ['tok', { nasIp: '192.0.2.99' }],
      ['tok', { client: 'wifi' }],
    ];
    for (const [username, extra] of foreigners) {
      const first = challenged(await t.send('tok', 'tok-pass'));
      const sent = t.upstream.received.length;
      const r = await t.send(username, '123456', { state: first.state, ...extra });
      expect(r).toEqual({ code: 'reject', replyMessage: 'Unknown Challenge' });
      expect(t.upstream.received).toHaveLength(sent);
      // Single use: even the rightful user cannot use it now.
      expect(await t.send('tok', '123456', { state: first.state })).toMatchObject({
        replyMessage: 'Unknown Challenge',
      });
    }
    expect(t.calls).toEqual({ preauth: [], auth: [] });
  });

  it('a replayed State, a forged one, and the upstream’s own State echoed by the NAS: Unknown Challenge, upstream not asked', async () => {
    const t = await setup(AUTO);
    const first = challenged(await t.send('tok', 'tok-pass'));
    expect(await t.send('tok', '123456', { state: first.state })).toMatchObject({ code: 'accept' });
    const sent = t.upstream.received.length;
    for (const state of [first.state, new Uint8Array(32).fill(7), UPSTREAM_STATE]) {
      expect(await t.send('tok', '123456', { state })).toEqual({ code: 'reject', replyMessage: 'Unknown Challenge' });
    }
    expect(t.upstream.received).toHaveLength(sent);
    expect(t.calls.auth).toHaveLength(1);
  });
});

describe('limits and modes that cannot carry a challenge', () => {
  it(`an upstream that keeps challenging is rejected after ${MAX_PRIMARY_CHALLENGE_ROUNDS} rounds`, async () => {
    const t = await setup(AUTO);
    let r = await t.send('loop', 'loop-pass');
    let rounds = 0;
    while (r.code === 'challenge') {
      rounds++;
      r = await t.send('loop', 'x', { state: r.state });
    }
    expect(rounds).toBe(MAX_PRIMARY_CHALLENGE_ROUNDS);
    expect(r).toEqual({
      code: 'reject',
      replyMessage: 'Error performing primary authentication: too many challenge rounds',
    });
    expect(t.lines.some((l) => l.includes('challenged once more than the relay relays'))).toBe(true);
    expect(t.calls.preauth).toEqual([]);
  });

  it('concat: the NAS cannot answer a challenge, so it fails closed with a log line', async () => {
    const t = await setup(CONCAT);
    expect(await t.send('tok', 'tok-pass,push')).toEqual({
      code: 'reject',
      replyMessage: 'Error performing primary authentication: Access-Challenge cannot be relayed in mode concat',
    });
    expect(t.lines.some((l) => l.includes('which mode concat cannot relay'))).toBe(true);
    expect(t.calls).toEqual({ preauth: [], auth: [] });
  });

  it('MS-CHAPv2: a challenge cannot be answered in kind, so it fails closed', async () => {
    const t = await setup(AUTO);
    const ms = msChapV2NasRequest('tok', 'tok-pass');
    const r = await t.send('tok', '', { msChapV2: true, raw: ms.raw });
    expect(r).toEqual({
      code: 'reject',
      replyMessage:
        'Error performing primary authentication: upstream Access-Challenge to an MS-CHAPv2 request cannot be relayed',
    });
    expect(t.upstream.received).toHaveLength(1);
    expect(t.calls).toEqual({ preauth: [], auth: [] });
  });
});

describe('the upstream hop', () => {
  it('the answer goes only to the server that challenged, never failed over to another', async () => {
    const silent = await fakeUpstream(SECRET);
    const asking = await fakeUpstream(SECRET, tokenServer);
    cleanups.push(silent.close, asking.close);
    const primary = primaryOver([silent.port, asking.port], undefined, { retry_wait_ms: 100 });
    const first = await primary.authenticate(papLogin('tok-pass'));
    if (first.kind !== 'challenge') throw new Error(`expected a challenge, got ${first.kind}`);
    expect(first.continuation).toMatchObject({ host: '127.0.0.1', port: asking.port });
    const before = silent.received.length;
    expect(await primary.authenticate({ ...papLogin('123456'), continuation: first.continuation })).toMatchObject({
      kind: 'accept',
    });
    expect(silent.received).toHaveLength(before);
  });

  it('an Access-Challenge with a bad Message-Authenticator is dropped like any unauthentic reply', async () => {
    const forged = await fakeUpstream(SECRET, (p) => ({ ...tokenServer(p), ma: 'bad' }));
    cleanups.push(forged.close);
    const primary = primaryOver([forged.port], undefined, { retry_wait_ms: 50, retries: 1 });
    expect(await primary.authenticate(papLogin('tok-pass'))).toEqual({
      kind: 'error',
      detail: 'RADIUS auth request timed out',
    });
  });
});
