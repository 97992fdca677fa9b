import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LoginFlow, LoginOutcome, LoginRequest } from '../../local-relay/src/flow/types.ts';
import {
  Attr,
  Code,
  decodePacket,
  getAttribute,
  getAttributes,
  textAttribute,
  verifyReply,
} from '../../local-relay/src/radius/index.ts';
import {
  createRadiusServer,
  type RadiusClientEntry,
  type RadiusRawRequest,
} from '../../local-relay/src/server/index.ts';
import { buildRequest, openUdpPeer, type UdpPeer } from '../support/radclient.ts';
import { waitFor } from '../support/wait.ts';

const SECRET = 'happy-path-secret-0123456789';
const secret = new TextEncoder().encode(SECRET);

/** A LoginFlow double: records requests, answers with `answer` (possibly after `gate`). */
interface ScriptedFlow extends LoginFlow {
  calls: LoginRequest[];
  answer: (req: LoginRequest) => LoginOutcome;
  gate: Promise<void>;
}
function scriptedFlow(): ScriptedFlow {
  const flow: ScriptedFlow = {
    calls: [],
    answer: () => ({ code: 'accept' }),
    gate: Promise.resolve(),
    async handle(req) {
      flow.calls.push(req);
      await flow.gate;
      return flow.answer(req);
    },
  };
  return flow;
}

const flow = scriptedFlow();
const client = (overrides: Partial<RadiusClientEntry> = {}): RadiusClientEntry => ({
  name: 'loopback',
  cidr: '127.0.0.0/8',
  secret,
  requireMessageAuthenticator: true,
  limitProxyState: true,
  flow,
  ...overrides,
});
const server = createRadiusServer({
  listeners: [
    { host: '127.0.0.1', port: 0, clients: [client()] },
    { host: '::1', port: 0, clients: [client({ name: 'v6', cidr: '::1/128' })] },
  ],
  logger: pino({ level: 'silent' }),
});
let port4 = 0;
let port6 = 0;
let peer: UdpPeer;

beforeAll(async () => {
  const bound = await server.start();
  port4 = bound[0]!.port;
  port6 = bound[1]!.port;
  peer = await openUdpPeer();
});
afterAll(async () => {
  await peer.close();
  await server.stop(100);
});
afterEach(() => {
  flow.calls.length = 0;
  flow.answer = () => ({ code: 'accept' });
  flow.gate = Promise.resolve();
});

async function exchange(req: ReturnType<typeof buildRequest>, to = port4, via = peer) {
  via.send(req.bytes, to);
  const bytes = await via.next();
  expect(bytes, 'a reply').toBeDefined();
  const decoded = decodePacket(bytes!);
  if (!decoded.ok) throw new Error('undecodable reply');
  expect(verifyReply(decoded.value, req, secret)).toEqual({ ok: true, value: undefined });
  expect(bytes![20], 'Message-Authenticator first').toBe(Attr.MessageAuthenticator);
  return decoded.value;
}

describe('RADIUS server: answers', () => {
  it('maps an Access-Request to a LoginRequest and answers Access-Accept with pass-through attributes', async () => {
    flow.answer = () => ({
      code: 'accept',
      replyMessage: 'welcome',
      attributes: [
        { type: Attr.Class, value: new Uint8Array([1, 2, 3]) },
        // Server-owned attributes are not injectable through pass-through.
        { type: Attr.ProxyState, value: new Uint8Array([9]) },
      ],
    });
    const req = buildRequest({
      secret,
      identifier: 11,
      username: 'alice',
      password: 'alice-pass',
      attributes: [textAttribute(Attr.NasIdentifier, 'vpn-1'), textAttribute(Attr.CallingStationId, '203.0.113.9')],
    });
    const reply = await exchange(req);
    expect(reply.code).toBe(Code.AccessAccept);
    expect(reply.attributes.map((a) => a.type)).toEqual([Attr.MessageAuthenticator, Attr.ReplyMessage, Attr.Class]);
    expect(flow.calls).toHaveLength(1);
    const login = flow.calls[0]!;
    expect(login).toMatchObject({
      username: 'alice',
      password: 'alice-pass',
      nasIp: '127.0.0.1',
      nasIdentifier: 'vpn-1',
      callingStationId: '203.0.113.9',
    });
    const raw = login.raw as RadiusRawRequest;
    expect(raw.clientName).toBe('loopback');
    expect(raw.secret).toEqual(secret);
    expect(raw.packet.identifier).toBe(11);
    expect(raw.packet.bytes).toEqual(req.bytes);
  });

  it('answers Access-Challenge with State and Access-Reject with a long Reply-Message split', async () => {
    const state = new Uint8Array(16).fill(7);
    flow.answer = () => ({ code: 'challenge', replyMessage: 'Enter passcode:', state });
    const challenge = await exchange(buildRequest({ secret, identifier: 12, username: 'frank', password: 'pw' }));
    expect(challenge.code).toBe(Code.AccessChallenge);
    expect(getAttribute(challenge, Attr.State)).toEqual(state);

    const long = 'x'.repeat(300);
    flow.answer = () => ({ code: 'reject', replyMessage: long });
    const reject = await exchange(
      buildRequest({ secret, identifier: 13, username: 'frank', attributes: [{ type: Attr.State, value: state }] }),
    );
    expect(reject.code).toBe(Code.AccessReject);
    expect(flow.calls[1]).toMatchObject({ passwordError: 'missing', state });
    const parts = getAttributes(reject, Attr.ReplyMessage);
    expect(parts.map((p) => p.length)).toEqual([253, 47]);
  });

  it('flags an undecodable password instead of guessing', async () => {
    const bad = buildRequest({
      secret,
      identifier: 14,
      username: 'u',
      attributes: [{ type: Attr.UserPassword, value: new Uint8Array(17) }],
    });
    await exchange(bad);
    expect(flow.calls[0]).toMatchObject({ passwordError: 'undecodable' });
    expect(flow.calls[0]!.password).toBeUndefined();
  });

  it('echoes every Proxy-State unchanged and in order, after the other attributes', async () => {
    const states = [new Uint8Array([3, 3, 3]), new Uint8Array([1]), new Uint8Array([2, 2])];
    flow.answer = () => ({ code: 'reject', replyMessage: 'no' });
    const reply = await exchange(
      buildRequest({
        secret,
        identifier: 15,
        username: 'u',
        password: 'p',
        attributes: states.map((value) => ({ type: Attr.ProxyState, value })),
      }),
    );
    expect(getAttributes(reply, Attr.ProxyState)).toEqual(states);
    expect(reply.attributes.at(-1)!.type).toBe(Attr.ProxyState);
  });

  it('answers Status-Server with Access-Accept without touching the flow', async () => {
    const reply = await exchange(buildRequest({ secret, identifier: 16, code: Code.StatusServer }));
    expect(reply.code).toBe(Code.AccessAccept);
    expect(reply.attributes.map((a) => a.type)).toEqual([Attr.MessageAuthenticator]);
    expect(flow.calls).toHaveLength(0);
  });

  it('serves IPv6 listeners', async () => {
    const peer6 = await openUdpPeer('::1');
    try {
      const reply = await exchange(
        buildRequest({ secret, identifier: 17, username: 'v6', password: 'p' }),
        port6,
        peer6,
      );
      expect(reply.code).toBe(Code.AccessAccept);
      expect(flow.calls[0]!.nasIp).toBe('::1');
    } finally {
      await peer6.close();
    }
  });
});

describe('RADIUS server: duplicate detection (RFC 5080 §2.2.2)', () => {
  it('calls the flow once for a retransmit in flight and replays identical bytes after the answer', async () => {
    let release!: () => void;
    flow.gate = new Promise<void>((r) => {
      release = r;
    });
    const before = server.counters();
    const req = buildRequest({ secret, identifier: 30, username: 'alice', password: 'alice-pass' });
    peer.send(req.bytes, port4);
    peer.send(req.bytes, port4);
    await waitFor(
      () => server.counters().duplicates_in_flight === before.duplicates_in_flight! + 1,
      3000,
      'the in-flight duplicate',
    );
    expect(server.inFlight()).toBe(1);
    release();
    const first = await peer.next();
    expect(first).toBeDefined();
    expect(await peer.next(200), 'the in-flight duplicate gets no second answer').toBeUndefined();
    peer.send(req.bytes, port4);
    const replayed = await peer.next();
    expect(replayed).toEqual(first);
    expect(flow.calls).toHaveLength(1);
    expect(server.counters().duplicates_replayed).toBe(before.duplicates_replayed! + 1);
  });

  it('treats a new authenticator under the same key as a new request', async () => {
    const a = buildRequest({ secret, identifier: 31, username: 'a', password: 'p' });
    const b = buildRequest({ secret, identifier: 31, username: 'a', password: 'p' });
    await exchange(a);
    await exchange(b);
    await exchange(a);
    expect(flow.calls).toHaveLength(3);
  });
});

describe('RADIUS server: lifecycle', () => {
  it('reload swaps secrets without dropping a request in flight', async () => {
    let release!: () => void;
    flow.gate = new Promise<void>((r) => {
      release = r;
    });
    const pending = buildRequest({ secret, identifier: 40, username: 'a', password: 'p' });
    peer.send(pending.bytes, port4);
    await waitFor(() => server.inFlight() === 1, 3000, 'one request in flight');
    const newSecret = new TextEncoder().encode('rotated-secret-abcdefghijkl');
    server.reload([
      { host: '127.0.0.1', port: 0, clients: [client({ secret: newSecret })] },
      { host: '::1', port: 0, clients: [client({ name: 'v6', cidr: '::1/128' })] },
    ]);
    release();
    // The in-flight request is answered with the secret it arrived under.
    const reply = await peer.next();
    const decoded = decodePacket(reply!);
    expect(decoded.ok && verifyReply(decoded.value, pending, secret).ok).toBe(true);
    const fresh = buildRequest({ secret: newSecret, identifier: 41, username: 'a', password: 'p' });
    peer.send(fresh.bytes, port4);
    const freshReply = decodePacket((await peer.next())!);
    expect(freshReply.ok && verifyReply(freshReply.value, fresh, newSecret).ok).toBe(true);
    server.reload([
      { host: '127.0.0.1', port: 0, clients: [client()] },
      { host: '::1', port: 0, clients: [client({ name: 'v6', cidr: '::1/128' })] },
    ]);
  });

  it('stop() waits for in-flight flows, answers them, then closes', async () => {
    const own = scriptedFlow();
    let release!: () => void;
    own.gate = new Promise<void>((r) => {
      release = r;
    });
    const s = createRadiusServer({
      listeners: [{ host: '127.0.0.1', port: 0, clients: [client({ flow: own })] }],
      logger: pino({ level: 'silent' }),
    });
    const [bound] = await s.start();
    const req = buildRequest({ secret, identifier: 50, username: 'a', password: 'p' });
    peer.send(req.bytes, bound!.port);
    await waitFor(() => s.inFlight() === 1, 3000, 'one request in flight');
    const stopped = s.stop(10_000);
    peer.send(buildRequest({ secret, identifier: 51, username: 'b', password: 'p' }).bytes, bound!.port);
    await waitFor(() => s.counters().dropped_stopping === 1, 3000, 'the drop while stopping');
    release();
    await stopped;
    expect(await peer.next()).toBeDefined();
    expect(own.calls).toHaveLength(1);
  });
});
