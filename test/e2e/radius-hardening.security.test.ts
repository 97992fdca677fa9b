import { readFile, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attr, Code, decodePacket, textAttribute, verifyReply } from '../../local-relay/src/radius/index.ts';
import { RadiusLoginClient } from '../bench/lib/radius-load.ts';
import { buildRequest, openUdpPeer, type UdpPeer } from '../support/radclient.ts';
import {
  freeTcpPort,
  freeUdpPort,
  type RelayProcess,
  STACK_RADIUS_SECRET,
  scrapeMetric,
  spawnRelay,
  stackDir,
  waitFor,
  writeRelayConfig,
} from '../support/stack.ts';

/**
 * The RADIUS server's hardening, through `duo-relay start` as an operator runs it: a legacy client
 * (require_message_authenticator = false) and the default reject delay. The edge is a closed port
 * and the relay's failmode is safe, so a right password is answered Access-Accept by the relay
 * itself (the edge plays no part in what is tested here) and a wrong one Access-Reject.
 */

let dir = '';
let relay: RelayProcess;
let port = 0;
let client: RadiusLoginClient;
let peer: UdpPeer;

beforeAll(async () => {
  dir = await stackDir('radius-hardening');
  port = await freeUdpPort();
  const managementPort = await freeTcpPort();
  const file = await writeRelayConfig(dir, {
    site: 'site-a',
    failmode: 'safe',
    edgeUrls: [`http://127.0.0.1:${await freeTcpPort()}`],
    radiusPort: port,
    managementPort,
    preauthTimeoutMs: 5_000,
    authTimeoutMs: 70_000,
  });
  const toml = await readFile(file, 'utf8');
  await writeFile(file, `${toml}require_message_authenticator = false\n`);
  relay = await spawnRelay(file, managementPort);
  client = await RadiusLoginClient.open({ port, secret: STACK_RADIUS_SECRET, lanes: 1 });
  peer = await openUdpPeer();
}, 60_000);

afterAll(async () => {
  await peer?.close();
  await client?.close();
  await relay?.stop();
  await rm(dir, { recursive: true, force: true });
});

const dropped = (reason: string) =>
  scrapeMetric(relay.managementUrl, 'duo_relay_packets_dropped_total', `reason="${reason}"`);

/** Sends `bytes`, waits until the relay counts the drop, then checks nothing came back. */
async function expectDropped(bytes: Uint8Array, reason: string): Promise<void> {
  const before = (await dropped(reason)) ?? 0;
  peer.send(bytes, port);
  await waitFor(async () => ((await dropped(reason)) ?? 0) === before + 1, 5_000, `${reason} drop counted`);
  expect(await peer.next(300)).toBeUndefined();
  expect(relay.alive()).toBe(true);
}

function decodeReply(bytes: Uint8Array | undefined, request: { authenticator: Uint8Array; identifier: number }) {
  expect(bytes).toBeDefined();
  const decoded = decodePacket(bytes!);
  if (!decoded.ok) throw new Error(`undecodable reply: ${decoded.error.reason}`);
  const check = verifyReply(decoded.value, request, new TextEncoder().encode(STACK_RADIUS_SECRET), {
    requireMessageAuthenticator: true,
  });
  expect(check.ok).toBe(true);
  return decoded.value;
}

describe('single-valued attributes (RFC 2865 §5)', () => {
  it.each([
    ['User-Name', [textAttribute(Attr.UserName, 'bob')]],
    ['User-Password', [{ type: Attr.UserPassword, value: new Uint8Array(16).fill(7) }]],
    [
      'State',
      [
        { type: Attr.State, value: new Uint8Array([1, 2, 3]) },
        { type: Attr.State, value: new Uint8Array([4, 5, 6]) },
      ],
    ],
  ])('an Access-Request with a second %s gets no answer, and the drop is counted', async (_name, extra) => {
    const req = buildRequest({
      secret: STACK_RADIUS_SECRET,
      identifier: 11,
      username: 'alice',
      password: 'alice-pass',
      attributes: extra,
    });
    await expectDropped(req.bytes, 'duplicate_attribute');
  });
});

describe('EAP-Message without Message-Authenticator (RFC 3579 §3.2)', () => {
  it('is dropped on a client that does not require Message-Authenticator', async () => {
    const eap = buildRequest({
      secret: STACK_RADIUS_SECRET,
      identifier: 21,
      username: 'alice',
      password: 'alice-pass',
      attributes: [{ type: Attr.EapMessage, value: new Uint8Array([2, 1, 0, 10, 1, 97, 108, 105, 99, 101]) }],
      messageAuthenticator: false,
    });
    await expectDropped(eap.bytes, 'eap_without_message_authenticator');

    // The same client without EAP-Message is answered: the drop is the EAP rule, not the client.
    const plain = buildRequest({
      secret: STACK_RADIUS_SECRET,
      identifier: 22,
      username: 'alice',
      password: 'alice-pass',
      messageAuthenticator: false,
    });
    peer.send(plain.bytes, port);
    expect(decodeReply(await peer.next(10_000), plain).code).toBe(Code.AccessAccept);
  });
});

describe('Status-Server (RFC 5997 §3)', () => {
  it('answers a burst only up to the per-client limit and counts the rest as dropped', async () => {
    const before = (await dropped('status_server_rate_limited')) ?? 0;
    const burst = 30;
    const requests = Array.from({ length: burst }, (_, i) =>
      buildRequest({ secret: STACK_RADIUS_SECRET, code: Code.StatusServer, identifier: 100 + i }),
    );
    for (const r of requests) peer.send(r.bytes, port);
    let limited = 0;
    await waitFor(
      async () => {
        limited = ((await dropped('status_server_rate_limited')) ?? 0) - before;
        return limited > 0;
      },
      5_000,
      'status-server rate limit',
    );
    const answers: Uint8Array[] = [];
    for (let b = await peer.next(1_000); b; b = await peer.next(300)) answers.push(b);
    for (const a of answers) {
      const id = a[1]!;
      expect(decodeReply(a, requests[id - 100]!).code).toBe(Code.AccessAccept);
    }
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.length + limited).toBe(burst);
    expect(limited).toBeGreaterThanOrEqual(burst / 2);
  });
});

describe('Access-Reject delay (default 1 s)', () => {
  it('holds the reject back without holding back an accept sent just after it', async () => {
    const [reject, accept] = await Promise.all([
      client.login({ username: 'bob', password: 'wrong' }, { timeoutMs: 10_000 }),
      client.login({ username: 'alice', password: 'alice-pass' }, { timeoutMs: 10_000 }),
    ]);
    expect(reject.replies.map((r) => r.code)).toEqual([Code.AccessReject]);
    expect(accept.replies.map((r) => r.code)).toEqual([Code.AccessAccept]);
    // The relay's timer starts after the decision, so the reject never comes sooner than 1 s
    // (less a few ms: the relay's timers count whole milliseconds).
    expect(reject.replies[0]!.latencyMs).toBeGreaterThanOrEqual(990);
    expect(accept.replies[0]!.latencyMs).toBeLessThan(reject.replies[0]!.latencyMs);
  });

  it('answers a retransmit of a pending reject once, and replays the cached reject at once', async () => {
    const metric = (name: string, labels: string) =>
      scrapeMetric(relay.managementUrl, name, labels).then((v) => v ?? 0);
    const denies = () => metric('duo_relay_decisions_total', 'result="deny"');
    const joined = () => metric('duo_relay_duplicates_total', 'kind="in_flight"');
    const deniesBefore = await denies();
    const joinedBefore = await joined();
    const req = buildRequest({ secret: STACK_RADIUS_SECRET, identifier: 31, username: 'carol', password: 'wrong' });
    peer.send(req.bytes, port);
    // The decision is made (the relay counted it) and its reject is now waiting on the delay.
    await waitFor(async () => (await denies()) === deniesBefore + 1, 5_000, 'reject decided');
    // A NAS retransmit while the reject waits: joins the pending request, no second login or answer.
    peer.send(req.bytes, port);
    await waitFor(async () => (await joined()) === joinedBefore + 1, 5_000, 'retransmit joined the pending reject');
    const first = decodeReply(await peer.next(10_000), req);
    expect(first.code).toBe(Code.AccessReject);
    expect(await peer.next(300)).toBeUndefined();
    expect(await denies()).toBe(deniesBefore + 1);

    // After it went out, a retransmit gets the cached bytes, ahead of a new reject started behind it.
    const later = buildRequest({ secret: STACK_RADIUS_SECRET, identifier: 32, username: 'dave', password: 'wrong' });
    peer.send(req.bytes, port);
    peer.send(later.bytes, port);
    const replayed = await peer.next(10_000);
    expect(replayed?.[1]).toBe(31);
    expect(decodeReply(replayed, req).authenticator).toEqual(first.authenticator);
    expect(decodeReply(await peer.next(10_000), later).code).toBe(Code.AccessReject);
  });
});
