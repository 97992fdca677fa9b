import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EdgeApi } from '../../local-relay/src/edge/client.ts';
import { ChallengeStore, createFlow } from '../../local-relay/src/flow/index.ts';
import { createRelayMetrics } from '../../local-relay/src/ops/metrics.ts';
import { PrimaryAdmission } from '../../local-relay/src/primary/admission.ts';
import type { PrimaryAuthenticator, PrimaryOutcome } from '../../local-relay/src/primary/types.ts';
import { Code, decodePacket, verifyReply } from '../../local-relay/src/radius/index.ts';
import { createRadiusServer, type RadiusClientEntry } from '../../local-relay/src/server/index.ts';
import { TokenBuckets } from '../../local-relay/src/server/token-bucket.ts';
import { buildRequest, openUdpPeer, type UdpPeer } from '../support/radclient.ts';
import { waitFor } from '../support/wait.ts';

const logger = pino({ level: 'silent' });
const SECRET = new TextEncoder().encode('admission-test-secret-0123456789');

/** `flood*` users hang in the primary until released; anyone else is accepted at once. */
const held: Array<() => void> = [];
let primaryCalls = 0;
const primary: PrimaryAuthenticator = {
  kind: 'users_file',
  authenticate: (req) => {
    primaryCalls++;
    if (!req.username.startsWith('flood')) return Promise.resolve({ kind: 'accept' });
    return new Promise<PrimaryOutcome>((resolve) => held.push(() => resolve({ kind: 'accept' })));
  },
};
const allowAll: EdgeApi = {
  preauth: async () => ({ kind: 'ok', value: { result: 'allow', message: 'allowed', source: 'duo' } }),
  auth: async () => ({ kind: 'ok', value: { result: 'allow', message: 'allowed', source: 'duo', status: 'allow' } }),
};

const admission = new PrimaryAdmission({ overall: 3, perClient: 2 });
const flow = createFlow(
  {
    mode: 'auto',
    exemptUsernames: [],
    clientIpAttr: 'default',
    factors: ['auto'],
    allowConcat: false,
    delimiter: ',',
    delimitedPasswordLength: 0,
  },
  {
    primary,
    admission,
    edge: allowAll,
    policy: { failmode: () => 'secure' },
    challenges: new ChallengeStore(),
    logger,
  },
);
const entry = (name: string, cidr: string): RadiusClientEntry => ({
  name,
  cidr,
  secret: SECRET,
  requireMessageAuthenticator: true,
  limitProxyState: true,
  flow,
});
const server = createRadiusServer({
  listeners: [{ host: '127.0.0.1', port: 0, clients: [entry('flood', '127.0.0.1'), entry('other', '127.0.0.2')] }],
  logger,
});
const metrics = createRelayMetrics({
  serverCounters: () => server.counters(),
  primaryRefused: () => admission.refusedByClient(),
});
let port = 0;
let flooder: UdpPeer;
let other: UdpPeer;

beforeAll(async () => {
  port = (await server.start())[0]!.port;
  flooder = await openUdpPeer('127.0.0.1');
  other = await openUdpPeer('127.0.0.2');
});
afterAll(async () => {
  for (const release of held) release();
  await flooder.close();
  await other.close();
  await server.stop(1_000);
});

const login = (identifier: number, username: string) =>
  buildRequest({ secret: SECRET, identifier, username, password: 'pw' });

function expectAccept(bytes: Uint8Array | undefined, req: ReturnType<typeof login>): void {
  expect(bytes).toBeDefined();
  const decoded = decodePacket(bytes!);
  if (!decoded.ok) throw new Error(decoded.error.reason);
  expect(verifyReply(decoded.value, req, SECRET).ok).toBe(true);
  expect(decoded.value.code).toBe(Code.AccessAccept);
}

describe('cap on concurrent primary checks', () => {
  it("drops a client's logins over its cap, still answers another client, and counts the drops by client", async () => {
    const flood = [1, 2, 3, 4, 5].map((id) => login(id, `flood${id}`));
    for (const r of flood) flooder.send(r.bytes, port);
    await waitFor(() => server.counters().primary_busy === 3, 3_000, 'three flood logins refused');
    expect(primaryCalls).toBe(2);
    expect(await flooder.next(100)).toBeUndefined();

    // A retransmit of an admitted login joins it: no second check, no refusal.
    flooder.send(flood[0]!.bytes, port);
    await waitFor(() => server.counters().duplicates_in_flight === 1, 3_000, 'retransmit joined');
    expect(server.counters().primary_busy).toBe(3);
    expect(primaryCalls).toBe(2);

    // The other client is answered while the flood holds every one of its own slots.
    const theirs = login(9, 'carol');
    other.send(theirs.bytes, port);
    expectAccept(await other.next(3_000), theirs);

    const text = await metrics.registry.metrics();
    expect(text).toContain('duo_relay_primary_checks_refused_total{client="flood"} 3');
    expect(text).not.toContain('duo_relay_primary_checks_refused_total{client="other"}');
    expect(text).toContain('duo_relay_packets_dropped_total{reason="primary_busy"} 3');

    // Slots free again: the admitted logins are answered, and a refused one's retransmit is
    // processed afresh (the drop left nothing in the duplicate cache).
    for (const release of held.splice(0)) release();
    expectAccept(await flooder.next(3_000), flood[0]!);
    expectAccept(await flooder.next(3_000), flood[1]!);
    flooder.send(flood[2]!.bytes, port);
    await waitFor(() => held.length === 1, 3_000, 'refused login admitted on retransmit');
    held.splice(0)[0]!();
    expectAccept(await flooder.next(3_000), flood[2]!);
    expect(server.counters().flow_errors).toBe(0);
  });
});

describe('PrimaryAdmission', () => {
  it('caps checks overall as well as per client, and frees a slot once per release', () => {
    const a = new PrimaryAdmission({ overall: 3, perClient: 2 });
    const x1 = a.tryEnter('x');
    const x2 = a.tryEnter('x');
    expect(x1 && x2).toBeTruthy();
    expect(a.tryEnter('x')).toBeUndefined();
    const y1 = a.tryEnter('y');
    expect(y1).toBeDefined();
    expect(a.tryEnter('z')).toBeUndefined();
    x1!();
    x1!();
    expect(a.inFlight()).toBe(2);
    expect(a.tryEnter('z')).toBeDefined();
    expect(a.tryEnter('z')).toBeUndefined();
    expect(a.refusedByClient()).toEqual({ x: 1, z: 2 });
    a.setLimits({ overall: 10, perClient: 10 });
    expect(a.tryEnter('z')).toBeDefined();
  });
});

describe('TokenBuckets', () => {
  it('lets a burst through, then one per refill interval, per key', () => {
    let now = 0;
    const b = new TokenBuckets(2, 5, () => now);
    expect(Array.from({ length: 7 }, () => b.take('a'))).toEqual([true, true, true, true, true, false, false]);
    expect(b.take('b')).toBe(true);
    now = 499;
    expect(b.take('a')).toBe(false);
    now = 500;
    expect(b.take('a')).toBe(true);
    expect(b.take('a')).toBe(false);
    now = 60_000;
    expect(Array.from({ length: 6 }, () => b.take('a')).filter(Boolean)).toHaveLength(5);
  });
});
