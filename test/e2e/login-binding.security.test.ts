import { REPLY } from '@duo-edge/contract/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayRuntime } from '../../local-relay/src/cli/runtime.ts';
import { Attr, Code, decodePacket, getAttribute, textAttribute } from '../../local-relay/src/radius/index.ts';
import { EXEMPT_USER } from '../support/edge-bindings.ts';
import { buildRequest, openUdpPeer, type UdpPeer } from '../support/radclient.ts';
import {
  type DuoAndEdge,
  freeUdpPort,
  STACK_RADIUS_SECRET,
  stackDir,
  startDuoAndEdge,
  startRelayInProcess,
  waitFor,
  writeRelayConfig,
} from '../support/stack.ts';

/**
 * An exemption never stands in for a credential, and two logins never share one approval: real
 * relays (site-a: failmode safe, exempts svc-monitor) → the worker in workerd → the Duo emulator,
 * whose pushes wait for the test to answer them, as a human would.
 */

let stack: DuoAndEdge;
const relays: RelayRuntime[] = [];
const ports = { auto1: 0, auto2: 0, duoOnly: 0 };
const peers: UdpPeer[] = [];

async function relay(port: number, mode: 'auto' | 'duo_only'): Promise<void> {
  const file = await writeRelayConfig(await stackDir(`login-binding-${mode}`), {
    site: 'site-a',
    // duo_only may not fail open unacknowledged; nothing here is about the relay's own failmode.
    failmode: mode === 'duo_only' ? 'secure' : 'safe',
    edgeUrls: [stack.edgeUrl],
    radiusPort: port,
    preauthTimeoutMs: 12_000,
    authTimeoutMs: 70_000,
    mode,
  });
  relays.push(await startRelayInProcess(file));
}

beforeAll(async () => {
  stack = await startDuoAndEdge({ emulator: { autoAnswerPushes: false }, deadlines: 'production' });
  ports.auto1 = await freeUdpPort();
  ports.auto2 = await freeUdpPort();
  ports.duoOnly = await freeUdpPort();
  await relay(ports.auto1, 'auto');
  await relay(ports.auto2, 'auto');
  await relay(ports.duoOnly, 'duo_only');
});

afterAll(async () => {
  await Promise.all(peers.map((p) => p.close()));
  await Promise.all(relays.map((r) => r.stop(0)));
  await stack?.close();
});

/** One Access-Request from the NAS (no Calling-Station-Id: the case a NAS endpoint cannot tell apart). */
function accessRequest(username: string, password: string) {
  return buildRequest({
    secret: STACK_RADIUS_SECRET,
    identifier: Math.floor(Math.random() * 256),
    username,
    password,
    attributes: [textAttribute(Attr.NasIdentifier, 'vpn-gw')],
  }).bytes;
}

async function peer(): Promise<UdpPeer> {
  const p = await openUdpPeer();
  peers.push(p);
  return p;
}

/** Decoded answer: code name and Reply-Message. */
function answer(bytes: Uint8Array | undefined) {
  if (!bytes) return undefined;
  const d = decodePacket(bytes);
  if (!d.ok) throw new Error('undecodable reply');
  const msg = getAttribute(d.value, Attr.ReplyMessage);
  const code = d.value.code === Code.AccessAccept ? 'Accept' : d.value.code === Code.AccessReject ? 'Reject' : 'other';
  return { code, message: msg && new TextDecoder().decode(msg) };
}

const pending = (username: string) =>
  stack.emulator.state.transactions.pending().filter((t) => t.username === username);

describe('duo_only with an exempt username', () => {
  it('a bare username with the password `push` is rejected, not exempted', async () => {
    const nas = await peer();
    nas.send(accessRequest(EXEMPT_USER, 'push'), ports.duoOnly);
    const reply = answer(await nas.next(15_000));
    expect(reply?.code).toBe('Reject');
    expect(reply?.message).not.toBe(REPLY.exempt);
    // Exactly one answer.
    expect(await nas.next(500)).toBeUndefined();
  });
});

describe('one push, one login', () => {
  it('a second, different login for alice from the same NAS while her push is pending does not get her approval', async () => {
    stack.emulator.state.clearRequests();
    const first = await peer();
    const second = await peer();
    first.send(accessRequest('alice', 'alice-pass'), ports.auto1);
    await waitFor(async () => pending('alice').length === 1, 15_000, "alice's first push");
    const [firstPush] = pending('alice');

    second.send(accessRequest('alice', 'alice-pass'), ports.auto1);
    // Its own push, not a seat on the first one.
    await waitFor(async () => pending('alice').length === 2, 15_000, 'a second push for the second login');
    stack.emulator.state.approve(firstPush!.txid);
    expect(answer(await first.next(15_000))?.code).toBe('Accept');
    // The approval was for the first login only: the second is still waiting on its own push.
    expect(await second.next(1_000)).toBeUndefined();
    for (const t of pending('alice')) stack.emulator.state.deny(t.txid);
    expect(answer(await second.next(15_000))?.code).toBe('Reject');
    expect(stack.emulator.state.pushes.get('alice')).toBe(2);
  });

  it('the same Access-Request at two relays (and retransmitted) makes exactly one push, and both answer it', async () => {
    stack.emulator.state.clearRequests();
    const nas = await peer();
    const packet = accessRequest('alice', 'alice-pass');
    nas.send(packet, ports.auto1);
    await waitFor(async () => pending('alice').length === 1, 15_000, "alice's push");
    nas.send(packet, ports.auto1);
    nas.send(packet, ports.auto2);
    // Give the second relay's call every chance to reach the edge before the push is answered.
    await waitFor(
      async () => stack.emulator.state.requests.filter((r) => r.endpoint === 'preauth').length >= 2,
      15_000,
      'the second relay reaching the edge',
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(pending('alice')).toHaveLength(1);
    stack.emulator.state.approve(pending('alice')[0]!.txid);
    const replies = [answer(await nas.next(15_000)), answer(await nas.next(15_000))];
    expect(replies.map((r) => r?.code)).toEqual(['Accept', 'Accept']);
    expect(stack.emulator.state.pushes.get('alice')).toBe(1);
    // One answer per relay: the retransmit in flight at the first relay was not answered twice.
    expect(await nas.next(1_000)).toBeUndefined();
  });
});
