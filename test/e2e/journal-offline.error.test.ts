import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { StoredDecision } from '@duo-edge/contract/audit';
import { REPLY } from '@duo-edge/contract/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../local-relay/src/primary/scrypt-hash.ts';
import { type RunningEmulator, startEmulator } from '../support/duo-emulator/index.ts';
import { edgeTestBindings, TEST_ADMIN_TOKEN } from '../support/edge-bindings.ts';
import { type RunningEdge, startEdge } from '../support/edge-harness.ts';
import { EDGE_KEY, RELAY_A_KEY } from '../support/keys.ts';
import { type RadclientReply, radclient } from '../support/radclient.ts';
import { freePort } from '../support/slapd.ts';
import { freeUdpPort, waitFor } from '../support/wait.ts';

/**
 * With the edge down, a relay (the real `duo-relay start` child process) makes
 * failmode decisions, is killed with SIGKILL mid-run, restarts, and once the edge is back every
 * one of those decisions is in the audit log exactly once. And the relay's whole log output
 * of this run holds none of the secrets, passwords or passcodes used.
 */

const BIN = resolve(import.meta.dirname, '../../local-relay/bin/duo-relay.js');
const SECRET = 'journal-e2e-radius-secret-5a7c';
const USERS = Array.from({ length: 20 }, (_, i) => `u${String(i + 1).padStart(2, '0')}`);
const password = (user: string) => `pw-${user}-Xq9`;
const EXEMPT = ['u19', 'u20'];
const PASSCODE = '123456';

let emulator: RunningEmulator;
let edge: RunningEdge | undefined;
let edgePort: number;
let persistDir: string;
let dir: string;
let radiusPort: number;
let managementPort: number;
/** Everything every relay process wrote, for the redaction check. */
let allLogs = '';
let relay: ChildProcess | undefined;

async function startRelayProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'start', '--config', 'relay.toml'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let mine = '';
  const collect = (d: Buffer) => {
    mine += d;
    allLogs += d;
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  await waitFor(() => mine.includes('duo-relay started') || child.exitCode !== null, 20_000, 'relay start');
  if (child.exitCode !== null) throw new Error(`relay exited: ${mine}`);
  return child;
}

async function killRelay(signal: NodeJS.Signals): Promise<void> {
  const child = relay;
  relay = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('close', r));
  child.kill(signal);
  await exited;
}

const login = (user: string, pass = password(user), timeoutS = 5): Promise<RadclientReply> =>
  radclient({
    port: radiusPort,
    secret: SECRET,
    attributes: [`User-Name = "${user}"`, `User-Password = "${pass}"`, 'Calling-Station-Id = "198.51.100.20"'],
    timeoutS,
    retries: 1,
  });

async function decisionsOf(user: string): Promise<StoredDecision[]> {
  const res = await fetch(`${edge!.url}/admin/v1/decisions?site=site-a&user=${user}&limit=50`, {
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
  });
  if (!res.ok) throw new Error(`admin API ${res.status}`);
  return ((await res.json()) as { records: StoredDecision[] }).records;
}

beforeAll(async () => {
  emulator = await startEmulator({ pushDelayMs: 200 });
  persistDir = await mkdtemp(join(tmpdir(), 'journal-e2e-edge-'));
  dir = await mkdtemp(join(tmpdir(), 'journal-e2e-'));
  edgePort = await freePort();
  radiusPort = await freeUdpPort();
  managementPort = await freePort();
  await writeFile(join(dir, 'relay.key'), RELAY_A_KEY.privateKeyPem);
  const lines = await Promise.all(
    [...USERS, 'frank'].map(async (u) => `${u}:${await hashPassword(u === 'frank' ? 'frank-pass' : password(u))}`),
  );
  await writeFile(join(dir, 'users.txt'), `${lines.join('\n')}\n`);
  await writeFile(join(dir, 'radius.secret'), `${SECRET}\n`);
  await writeFile(
    join(dir, 'relay.toml'),
    `
[relay]
site = "site-a"
key_file = "relay.key"
state_dir = "state"
failmode = "safe"
shutdown_grace_ms = 2000

[edge]
urls = ["http://127.0.0.1:${edgePort}"]
public_key = "${EDGE_KEY.publicKey}"
preauth_timeout_ms = 2000
auth_timeout_ms = 15000
probe_interval_ms = 300
site_refresh_ms = 1000
heartbeat_interval_ms = 1000

[journal]
upload_interval_ms = 1000

[management]
listen = "127.0.0.1:${managementPort}"

[log]
level = "debug"

[primary]
type = "users_file"
path = "users.txt"

[[server]]
mode = "auto"
listen = ["127.0.0.1:${radiusPort}"]
exempt_usernames = ${JSON.stringify(EXEMPT)}

[[server.client]]
name = "loopback"
ip = "127.0.0.1"
secret = { file = "radius.secret" }
`,
  );
});

afterAll(async () => {
  await killRelay('SIGKILL');
  await edge?.stop();
  await emulator?.close();
  for (const d of [persistDir, dir]) if (d) await rm(d, { recursive: true, force: true });
});

describe('offline journal across a kill -9', () => {
  /** Users whose login got an answer while the edge was down: each must be audited exactly once. */
  const answered: Array<{ user: string; source: 'failmode-relay' | 'exempt' }> = [];
  /** Users whose request was in flight at the kill: audited at most once. */
  const unanswered: string[] = [];

  it('edge down: failmode and exempt decisions, then SIGKILL in the middle of a burst', async () => {
    relay = await startRelayProcess();
    for (const user of ['u01', 'u02', 'u03', 'u04', 'u19']) {
      const r = await login(user);
      expect(r.code).toBe('Access-Accept');
      const exempt = EXEMPT.includes(user);
      expect(r.attributes).toContainEqual({
        name: 'Reply-Message',
        value: exempt ? REPLY.exempt : REPLY.failSafeAllowed,
      });
      answered.push({ user, source: exempt ? 'exempt' : 'failmode-relay' });
    }
    const burst = ['u05', 'u06', 'u07', 'u08', 'u09', 'u10', 'u11', 'u12'];
    const replies = burst.map((u) => login(u, password(u), 2));
    // Kill as soon as the first of the burst is answered: the rest are mid-flight or unsent.
    await Promise.race(replies);
    await killRelay('SIGKILL');
    const settled = await Promise.all(replies);
    settled.forEach((r, i) => {
      if (r.code === 'Access-Accept') answered.push({ user: burst[i]!, source: 'failmode-relay' });
      else unanswered.push(burst[i]!);
    });
    expect(answered.length).toBeGreaterThan(5);
  });

  it('restarted, still offline: more decisions on top of the journal the killed process left', async () => {
    relay = await startRelayProcess();
    for (const user of ['u13', 'u14', 'u15', 'u20']) {
      const r = await login(user);
      expect(r.code).toBe('Access-Accept');
      answered.push({ user, source: EXEMPT.includes(user) ? 'exempt' : 'failmode-relay' });
    }
    const metrics = await (await fetch(`http://127.0.0.1:${managementPort}/metrics`)).text();
    const depth = Number(/^duo_relay_journal_depth\{site="site-a"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(depth).toBeGreaterThanOrEqual(answered.length);
  });

  it('edge back: every answered decision is in the audit log exactly once, nothing twice', async () => {
    edge = await startEdge({ bindings: edgeTestBindings(emulator.url) as never, persistDir, port: edgePort });
    await waitFor(
      async () => {
        const metrics = await (await fetch(`http://127.0.0.1:${managementPort}/metrics`)).text();
        return /^duo_relay_journal_depth\{site="site-a"\} 0$/m.test(metrics);
      },
      30_000,
      'the journal to drain',
    );
    for (const { user, source } of answered) {
      const records = await decisionsOf(user);
      expect(records, user).toHaveLength(1);
      expect(records[0]).toMatchObject({ username: user, source, result: 'allow', stage: 'preauth', site: 'site-a' });
      expect(records[0]!.reason).toContain(source === 'exempt' ? REPLY.exempt : REPLY.failSafeAllowed);
    }
    for (const user of unanswered) expect((await decisionsOf(user)).length, user).toBeLessThanOrEqual(1);
    const res = await fetch(`${edge.url}/admin/v1/decisions?site=site-a&source=failmode-relay&limit=500`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    const ids = ((await res.json()) as { records: StoredDecision[] }).records.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('edge back: logins reach Duo again (a passcode), and the heartbeat reports the relay', async () => {
    const r = await login('frank', `frank-pass,${PASSCODE}`, 15);
    expect(r.code).toBe('Access-Accept');
    expect(r.attributes).not.toContainEqual({ name: 'Reply-Message', value: REPLY.failSafeAllowed });
    await waitFor(
      async () => {
        const res = await fetch(`${edge!.url}/admin/v1/relays`, {
          headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        });
        const { relays } = (await res.json()) as { relays: Array<{ site: string; counters: Record<string, number> }> };
        return relays.some((x) => x.site === 'site-a' && (x.counters.accepts ?? 0) > 0);
      },
      15_000,
      'a heartbeat from the relay',
    );
  });

  it("nothing secret in the relay's log output of the whole run", async () => {
    await killRelay('SIGTERM');
    expect(allLogs).toContain('auth_event');
    const secrets = [
      SECRET,
      PASSCODE,
      'frank-pass',
      ...USERS.map(password),
      RELAY_A_KEY.privateKeyPem.split('\n')[1]!,
      'PRIVATE KEY',
      TEST_ADMIN_TOKEN,
    ];
    for (const s of secrets) expect(allLogs, s).not.toContain(s);
  });
});
