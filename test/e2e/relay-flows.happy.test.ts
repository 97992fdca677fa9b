import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPLY } from '@duo-edge/contract/messages';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RelayRuntime, startRelay } from '../../local-relay/src/cli/runtime.ts';
import { edgeTransportOf } from '../../local-relay/src/config/edge-proxy.ts';
import { loadConfig } from '../../local-relay/src/config/load.ts';
import { hashPassword } from '../../local-relay/src/primary/scrypt-hash.ts';
import { Attr, decodePacket, getAttribute, textAttribute } from '../../local-relay/src/radius/index.ts';
import { type RunningEmulator, startEmulator } from '../support/duo-emulator/index.ts';
import { edgeTestBindings } from '../support/edge-bindings.ts';
import { type RunningEdge, startEdge } from '../support/edge-harness.ts';
import { spyTransport } from '../support/fake-transport.ts';
import { EDGE_KEY, RELAY_A_KEY, RELAY_B_KEY } from '../support/keys.ts';
import { buildRequest, openUdpPeer, radclient } from '../support/radclient.ts';
import { freeUdpPort, waitFor } from '../support/wait.ts';

/**
 * radclient → relay (the `start` wiring, in-process) → edge (real worker) → Duo emulator.
 * site-a is `safe`, site-b `secure` (test/support/edge-bindings.ts).
 */

const SECRET = 'e2e-radius-secret-0123456789';
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'svc-backup'];

let emulator: RunningEmulator;
let edge: RunningEdge;
let edgePort: number;
let persistDir: string;
let dir: string;
let relayA: RelayRuntime;
let relayB: RelayRuntime;
const ports = { auto: 0, challenge: 0, concat: 0, duoOnly: 0, siteB: 0 };
/** Every request the relays send to the edge, by path. */
const edgeCalls: string[] = [];

function relayToml(site: string, servers: string): string {
  return `
[relay]
site = "${site}"
key_file = "${site}.key"
state_dir = "state-${site}"
failmode = "secure"

[edge]
urls = ["${edge.url}"]
public_key = "${EDGE_KEY.publicKey}"
preauth_timeout_ms = 3000
auth_timeout_ms = 15000
probe_interval_ms = 500

[management]
listen = "127.0.0.1:0"

[primary]
type = "users_file"
path = "users.txt"
${servers}`;
}

const serverToml = (mode: string, port: number, extra = '') => `
[[server]]
mode = "${mode}"
listen = ["127.0.0.1:${port}"]
${extra}
[[server.client]]
name = "loopback"
ip = "127.0.0.1"
secret = { env = "E2E_RADIUS_SECRET" }
`;

async function start(site: string, toml: string): Promise<RelayRuntime> {
  const file = join(dir, `${site}.toml`);
  await writeFile(file, toml);
  const loaded = await loadConfig(file, { E2E_RADIUS_SECRET: SECRET });
  const transport = spyTransport(edgeTransportOf(loaded.config.edge), (req) => edgeCalls.push(req.url.pathname));
  const runtime = await startRelay(loaded, {
    logger: pino({ level: process.env.RELAY_E2E_LOG ?? 'silent' }),
    transport,
  });
  await waitFor(() => runtime.policy.current().from === 'edge', 20_000, 'the site policy from the edge');
  return runtime;
}

function auth(port: number, user: string, password: string, extra: string[] = []) {
  return radclient({
    port,
    secret: SECRET,
    attributes: [
      `User-Name = "${user}"`,
      `User-Password = "${password}"`,
      'Calling-Station-Id = "198.51.100.7"',
      ...extra,
    ],
    // One try (radclient's -r counts tries): the long push must not be retransmitted here.
    timeoutS: 20,
    retries: 1,
  });
}

const reply = (r: Awaited<ReturnType<typeof radclient>>, name: string) =>
  r.attributes.find((a) => a.name === name)?.value;

beforeAll(async () => {
  emulator = await startEmulator({ pushDelayMs: 1000 });
  persistDir = await mkdtemp(join(tmpdir(), 'relay-e2e-edge-'));
  edge = await startEdge({ bindings: edgeTestBindings(emulator.url) as never, persistDir });
  edgePort = Number(new URL(edge.url).port);
  dir = await mkdtemp(join(tmpdir(), 'relay-e2e-'));
  await writeFile(join(dir, 'site-a.key'), RELAY_A_KEY.privateKeyPem);
  await writeFile(join(dir, 'site-b.key'), RELAY_B_KEY.privateKeyPem);
  const lines = await Promise.all(
    USERS.map(async (u) => `${u}:${await hashPassword(`${u === 'svc-backup' ? 'svc' : u}-pass`)}`),
  );
  await writeFile(join(dir, 'users.txt'), `${lines.join('\n')}\n`);
  for (const k of Object.keys(ports) as Array<keyof typeof ports>) ports[k] = await freeUdpPort();
  relayA = await start(
    'site-a',
    relayToml(
      'site-a',
      serverToml('auto', ports.auto, 'factors = ["auto", "passcode"]\nexempt_usernames = ["svc-backup"]') +
        serverToml('challenge', ports.challenge) +
        serverToml('concat', ports.concat) +
        serverToml('duo_only', ports.duoOnly),
    ),
  );
  relayB = await start('site-b', relayToml('site-b', serverToml('auto', ports.siteB)));
});

afterAll(async () => {
  await relayA?.stop(1000);
  await relayB?.stop(1000);
  await edge?.stop();
  await emulator?.close();
  for (const d of [persistDir, dir]) if (d) await rm(d, { recursive: true, force: true });
});

describe('relay end to end with the edge up', () => {
  it('auto: alice push approved → Accept; bob push denied → Reject', async () => {
    expect((await auth(ports.auto, 'alice', 'alice-pass')).code).toBe('Access-Accept');
    expect((await auth(ports.auto, 'bob', 'bob-pass')).code).toBe('Access-Reject');
    expect(relayA.policy.current()).toMatchObject({ failmode: 'safe', from: 'edge' });
  });

  it('auto: wrong password → Reject without calling the edge', async () => {
    const before = edgeCalls.length;
    const r = await auth(ports.auto, 'alice', 'wrong');
    expect(r.code).toBe('Access-Reject');
    expect(reply(r, 'Reply-Message')).toBe('Primary credentials rejected');
    expect(edgeCalls.slice(before).filter((p) => p !== '/v1/site')).toEqual([]);
  });

  it('auto: frank (token only) gets "Enter passcode:" and the passcode logs him in', async () => {
    const first = await auth(ports.auto, 'frank', 'frank-pass');
    expect(first.code).toBe('Access-Challenge');
    expect(reply(first, 'Reply-Message')).toBe(REPLY.enterPasscode);
    const state = reply(first, 'State');
    expect(state).toMatch(/^0x[0-9a-f]{64}$/);
    const second = await auth(ports.auto, 'frank', '123456', [`State = ${state}`]);
    expect(second.code).toBe('Access-Accept');
    const replayed = await auth(ports.auto, 'frank', '123456', [`State = ${state}`]);
    expect(reply(replayed, 'Reply-Message')).toBe(REPLY.unknownChallenge);
  });

  it('auto and concat: alice-pass,push → Accept', async () => {
    expect((await auth(ports.auto, 'alice', 'alice-pass,push')).code).toBe('Access-Accept');
    expect((await auth(ports.concat, 'alice', 'alice-pass,push')).code).toBe('Access-Accept');
    expect((await auth(ports.concat, 'frank', 'frank-pass,123456')).code).toBe('Access-Accept');
    expect((await auth(ports.concat, 'frank', 'frank-pass,000000')).code).toBe('Access-Reject');
  });

  it('challenge: Duo prompt, option 1 pushes alice', async () => {
    const first = await auth(ports.challenge, 'alice', 'alice-pass');
    expect(first.code).toBe('Access-Challenge');
    const second = await auth(ports.challenge, 'alice', '1', [`State = ${reply(first, 'State')}`]);
    expect(second.code).toBe('Access-Accept');
  });

  it('duo_only: the password is the factor', async () => {
    expect((await auth(ports.duoOnly, 'alice', 'push')).code).toBe('Access-Accept');
    expect((await auth(ports.duoOnly, 'frank', '123456')).code).toBe('Access-Accept');
    expect((await auth(ports.duoOnly, 'bob', 'push')).code).toBe('Access-Reject');
  });

  it('exempt user: Accept "User exempted from 2FA" with no edge call', async () => {
    const before = edgeCalls.length;
    const r = await auth(ports.auto, 'svc-backup', 'svc-pass');
    expect(r.code).toBe('Access-Accept');
    expect(reply(r, 'Reply-Message')).toBe(REPLY.exempt);
    expect(edgeCalls.slice(before).filter((p) => p !== '/v1/site')).toEqual([]);
  });

  it('a retransmit during a pending push makes one /v1/auth and one push; the late one gets identical bytes', async () => {
    const peer = await openUdpPeer();
    try {
      emulator.state.clearRequests();
      const before = edgeCalls.filter((p) => p === '/v1/auth').length;
      const req = buildRequest({
        secret: SECRET,
        identifier: 77,
        username: 'alice',
        password: 'alice-pass',
        attributes: [textAttribute(Attr.CallingStationId, '198.51.100.7')],
      });
      peer.send(req.bytes, ports.auto);
      await new Promise((r) => setTimeout(r, 300));
      peer.send(req.bytes, ports.auto);
      const first = await peer.next(20_000);
      expect(first).toBeDefined();
      const decoded = decodePacket(first!);
      expect(decoded.ok && decoded.value.code).toBe(2);
      expect(await peer.next(500)).toBeUndefined();
      peer.send(req.bytes, ports.auto);
      const late = await peer.next(5_000);
      expect(late).toEqual(first);
      expect(edgeCalls.filter((p) => p === '/v1/auth').length - before).toBe(1);
      expect(emulator.state.requests.filter((r) => r.endpoint === 'auth')).toHaveLength(1);
      expect(emulator.state.pushes.get('alice')).toBe(1);
      expect(decoded.ok && getAttribute(decoded.value, Attr.ReplyMessage)).toBeDefined();
    } finally {
      await peer.close();
    }
  });
});

describe('relay end to end with the edge down', () => {
  it('safe accepts, secure rejects, the breaker answers at once, and the edge is used again once back', async () => {
    await edge.stop();

    const safe = await auth(ports.auto, 'alice', 'alice-pass');
    expect(safe.code).toBe('Access-Accept');
    expect(reply(safe, 'Reply-Message')).toBe(REPLY.failSafeAllowed);
    const secure = await auth(ports.siteB, 'alice', 'alice-pass');
    expect(secure.code).toBe('Access-Reject');
    expect(reply(secure, 'Reply-Message')).toBe(REPLY.failSecureDenied);
    // A wrong password is still a wrong password.
    expect(reply(await auth(ports.auto, 'alice', 'nope'), 'Reply-Message')).toBe('Primary credentials rejected');

    for (let i = 0; i < 3 && relayA.breaker.state === 'closed'; i++) await auth(ports.auto, 'carol', 'carol-pass');
    expect(relayA.breaker.state).toBe('open');
    const callsWhileOpen = edgeCalls.filter((p) => p === '/v1/preauth').length;
    const open = await auth(ports.auto, 'alice', 'alice-pass');
    expect(reply(open, 'Reply-Message')).toBe(REPLY.failSafeAllowed);
    expect(edgeCalls.filter((p) => p === '/v1/preauth').length).toBe(callsWhileOpen);

    edge = await startEdge({ bindings: edgeTestBindings(emulator.url) as never, persistDir, port: edgePort });
    await waitFor(() => relayA.breaker.state === 'closed', 10_000, 'the breaker to close');
    emulator.state.clearRequests();
    const back = await auth(ports.auto, 'alice', 'alice-pass');
    expect(back.code).toBe('Access-Accept');
    expect(reply(back, 'Reply-Message')).not.toBe(REPLY.failSafeAllowed);
    expect(emulator.state.requests.some((r) => r.endpoint === 'preauth')).toBe(true);
  });
});
