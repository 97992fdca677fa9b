import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LoginFlow, LoginOutcome, LoginRequest } from '../../local-relay/src/flow/types.ts';
import { Attr, Code, decodePacket, verifyReply } from '../../local-relay/src/radius/index.ts';
import { createRadiusServer, type RadiusClientEntry } from '../../local-relay/src/server/index.ts';
import { buildRequest, openUdpPeer, type UdpPeer } from '../support/radclient.ts';
import { waitFor } from '../support/wait.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const STRICT = enc('strict-client-secret-0123456789');
const LEGACY = enc('legacy-client-secret-0123456789');
const OPEN = enc('open-legacy-secret-0123456789ab');

const calls: LoginRequest[] = [];
let answer: (req: LoginRequest) => Promise<LoginOutcome> = async () => ({ code: 'accept' });
const flow: LoginFlow = {
  handle: (req) => {
    calls.push(req);
    return answer(req);
  },
};
const entry = (name: string, cidr: string, secret: Uint8Array, requireMa: boolean, limitProxyState: boolean) =>
  ({ name, cidr, secret, requireMessageAuthenticator: requireMa, limitProxyState, flow }) satisfies RadiusClientEntry;

// Most specific match wins: 127.0.0.1 is strict, 127.0.0.3 legacy with limit_proxy_state,
// 127.0.0.4 legacy without it; 127.0.0.9 matches nothing.
const server = createRadiusServer({
  listeners: [
    {
      host: '127.0.0.1',
      port: 0,
      clients: [
        entry('legacy', '127.0.0.0/29', LEGACY, false, true),
        entry('strict', '127.0.0.1', STRICT, true, false),
        entry('open', '127.0.0.4/32', OPEN, false, false),
        entry('nowhere', '10.0.0.0/8', STRICT, true, true),
      ],
    },
  ],
  logger: pino({ level: 'silent' }),
});
let port = 0;
const peers: Record<string, UdpPeer> = {};

beforeAll(async () => {
  port = (await server.start())[0]!.port;
  for (const ip of ['127.0.0.1', '127.0.0.9', '127.0.0.3', '127.0.0.4']) peers[ip] = await openUdpPeer(ip);
});
afterAll(async () => {
  for (const p of Object.values(peers)) await p.close();
  await server.stop(100);
});
beforeEach(() => {
  calls.length = 0;
  answer = async () => ({ code: 'accept' });
});

/** Sends, waits until the named counter moves, and asserts no reply came back. */
async function expectSilentDrop(from: string, bytes: Uint8Array, counter: string): Promise<void> {
  const before = server.counters()[counter]!;
  peers[from]!.send(bytes, port);
  await waitFor(() => server.counters()[counter] === before + 1, 3000, `${counter} to move`);
  expect(await peers[from]!.next(100)).toBeUndefined();
}

async function expectAnswer(from: string, req: ReturnType<typeof buildRequest>, secret: Uint8Array) {
  peers[from]!.send(req.bytes, port);
  const bytes = await peers[from]!.next();
  expect(bytes).toBeDefined();
  const decoded = decodePacket(bytes!);
  expect(decoded.ok && verifyReply(decoded.value, req, secret).ok).toBe(true);
  expect(bytes![20]).toBe(Attr.MessageAuthenticator);
  return decoded;
}

describe('BlastRADIUS hardening', () => {
  it('drops an Access-Request without Message-Authenticator when the client requires it', async () => {
    const req = buildRequest({ secret: STRICT, username: 'a', password: 'p', messageAuthenticator: false });
    await expectSilentDrop('127.0.0.1', req.bytes, 'missing_message_authenticator');
    expect(calls).toHaveLength(0);
  });

  it('drops Status-Server without Message-Authenticator even for legacy clients', async () => {
    const req = buildRequest({ secret: OPEN, code: Code.StatusServer, messageAuthenticator: false });
    await expectSilentDrop('127.0.0.4', req.bytes, 'missing_message_authenticator');
  });

  it('drops a request whose Message-Authenticator is wrong, for every client', async () => {
    for (const [ip, secret] of [
      ['127.0.0.1', STRICT],
      ['127.0.0.3', LEGACY],
      ['127.0.0.4', OPEN],
    ] as const) {
      const req = buildRequest({ secret, username: 'a', password: 'p' });
      const forged = Uint8Array.from(req.bytes);
      forged[22] = forged[22]! ^ 0x01;
      await expectSilentDrop(ip, forged, 'bad_message_authenticator');
      // Signed with another secret: equally invalid.
      const wrongKey = buildRequest({ secret: enc('not-the-secret'), username: 'a', password: 'p' });
      await expectSilentDrop(ip, wrongKey.bytes, 'bad_message_authenticator');
    }
    expect(calls).toHaveLength(0);
  });

  it('limit_proxy_state: drops Proxy-State without Message-Authenticator, answers plain legacy requests', async () => {
    const withProxyState = buildRequest({
      secret: LEGACY,
      username: 'a',
      password: 'p',
      attributes: [{ type: Attr.ProxyState, value: enc('collision-blocks') }],
      messageAuthenticator: false,
    });
    await expectSilentDrop('127.0.0.3', withProxyState.bytes, 'proxy_state_without_message_authenticator');
    await expectAnswer(
      '127.0.0.3',
      buildRequest({ secret: LEGACY, username: 'a', password: 'p', messageAuthenticator: false }),
      LEGACY,
    );
    // Without limit_proxy_state, the legacy request is answered and still gets MA first.
    const open = buildRequest({
      secret: OPEN,
      username: 'a',
      password: 'p',
      attributes: [{ type: Attr.ProxyState, value: enc('x') }],
      messageAuthenticator: false,
    });
    await expectAnswer('127.0.0.4', open, OPEN);
  });

  it('an invalid Message-Authenticator never touches the dedup cache', async () => {
    const req = buildRequest({ secret: STRICT, identifier: 99, username: 'a', password: 'p' });
    await expectAnswer('127.0.0.1', req, STRICT);
    // Same key and authenticator but a forged MAC: dropped, not replayed.
    const forged = Uint8Array.from(req.bytes);
    forged[30] = forged[30]! ^ 0xff;
    await expectSilentDrop('127.0.0.1', forged, 'bad_message_authenticator');
    // The genuine retransmit is still replayed from the cache.
    const before = server.counters().duplicates_replayed!;
    await expectAnswer('127.0.0.1', req, STRICT);
    expect(server.counters().duplicates_replayed).toBe(before + 1);
    expect(calls).toHaveLength(1);
  });
});

describe('what the server refuses to process', () => {
  it('silently drops packets from unknown clients', async () => {
    const req = buildRequest({ secret: STRICT, username: 'a', password: 'p' });
    await expectSilentDrop('127.0.0.9', req.bytes, 'unknown_client');
  });

  it('drops malformed datagrams and unsupported codes, and keeps serving', async () => {
    await expectSilentDrop('127.0.0.1', new Uint8Array(10), 'malformed');
    const lying = Uint8Array.from(buildRequest({ secret: STRICT, username: 'a', password: 'p' }).bytes);
    lying[3] = lying[3]! + 40; // Length beyond the datagram
    await expectSilentDrop('127.0.0.1', lying, 'malformed');
    const accounting = buildRequest({ secret: STRICT, code: Code.AccountingRequest, username: 'a' });
    await expectSilentDrop('127.0.0.1', accounting.bytes, 'unsupported_code');
    const noise = server.counters().packets_received!;
    for (let i = 0; i < 200; i++) peers['127.0.0.1']!.send(new Uint8Array(randomBytes(1 + (i % 90))), port);
    await waitFor(() => server.counters().packets_received === noise + 200, 3000, 'the 200 noise datagrams');
    expect(server.counters().internal_errors).toBe(0);
    await expectAnswer('127.0.0.1', buildRequest({ secret: STRICT, username: 'a', password: 'p' }), STRICT);
  });

  it('a throwing flow gets no reply, is counted, and the next request is served', async () => {
    answer = async () => {
      throw new Error('bug in flow');
    };
    await expectSilentDrop(
      '127.0.0.1',
      buildRequest({ secret: STRICT, username: 'a', password: 'p' }).bytes,
      'flow_errors',
    );
    answer = () => {
      throw new Error('synchronous bug');
    };
    await expectSilentDrop(
      '127.0.0.1',
      buildRequest({ secret: STRICT, username: 'a', password: 'p' }).bytes,
      'flow_errors',
    );
    answer = async () => ({ code: 'reject', replyMessage: 'no' });
    const reply = await expectAnswer(
      '127.0.0.1',
      buildRequest({ secret: STRICT, username: 'a', password: 'p' }),
      STRICT,
    );
    expect(reply.ok && reply.value.code).toBe(Code.AccessReject);
    expect(server.inFlight()).toBe(0);
  });

  it('an oversized accept is not sent truncated', async () => {
    answer = async () => ({
      code: 'accept',
      attributes: Array.from({ length: 20 }, () => ({ type: Attr.Class, value: new Uint8Array(250) })),
    });
    await expectSilentDrop(
      '127.0.0.1',
      buildRequest({ secret: STRICT, username: 'a', password: 'p' }).bytes,
      'encode_errors',
    );
  });
});
