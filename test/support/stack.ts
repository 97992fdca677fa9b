import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredDecision } from '@duo-edge/contract/audit';
import { importPrivateKeyPem, type Key, sign } from '@duo-edge/contract/ed25519';
import { utf8 } from '@duo-edge/contract/encoding';
import { decisionMessage, HEADER } from '@duo-edge/contract/signing';
import type { RelayRuntime } from '../../local-relay/src/cli/runtime.ts';
import type { DecisionHook } from '../../local-relay/src/flow/index.ts';
import type { LogLevel } from '../../local-relay/src/log.ts';
import { derive, formatScryptHash } from '../../local-relay/src/primary/scrypt-hash.ts';
import { RELAY_NODE_FLAGS } from '../../scripts/release/runtimes.ts';
import type { RelayStatus } from '../../src/relays/store.ts';
import { RadiusLoginClient } from '../bench/lib/radius-load.ts';
import type { EmulatorOptions, RunningEmulator } from './duo-emulator/index.ts';
import {
  type EdgeBindingOptions,
  type EdgeSecretsAndVars,
  edgeTestBindings,
  TEST_ADMIN_TOKEN,
} from './edge-bindings.ts';
import { type RunningEdge, startEdge } from './edge-harness.ts';
import { EDGE_KEY, RELAY_A_KEY, RELAY_B_KEY, RELAY_C_KEY } from './keys.ts';
import { spawnChild } from './launcher/child.ts';
import { type LaunchedDuoAndEdge, launchDuoAndEdge, launchRelay, policyFromEdge } from './launcher/parts.ts';
import { DUO_RELAY_BIN, ROOT } from './launcher/paths.ts';
import type { ChildEnv } from './process.ts';
import { freeTcpPort, freeUdpPort, waitFor } from './wait.ts';

/** Re-exported so fault, load and bench runs get the whole harness from one import. */
export { DUO_RELAY_BIN } from './launcher/paths.ts';
export { freeTcpPort, freeUdpPort, waitFor } from './wait.ts';

/**
 * The whole path on loopback for fault, load and benchmark runs: Duo emulator → edge worker
 * (workerd, local D1 + DO, restartable on its port) → relays (in-process or as `duo-relay start`
 * children, config written here), plus stand-ins for a broken edge: a proxy that injects faults per
 * stage and a TCP server that accepts and never answers.
 */

export const STACK_RADIUS_SECRET = 'stack-radius-secret-0123456789';
/** The demo users of the Duo emulator (README, "The local stack"), password `<user>-pass`. */
export const STACK_USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'] as const;

export type StackSite = 'site-a' | 'site-b' | 'site-c';
const SITE_KEYS = { 'site-a': RELAY_A_KEY, 'site-b': RELAY_B_KEY, 'site-c': RELAY_C_KEY } as const;

// ---- Duo emulator + edge -------------------------------------------------------------------------

export interface DuoAndEdge {
  emulator: RunningEmulator;
  /** Stable across restarts (same port). */
  edgeUrl: string;
  /** Stops the worker: its port then refuses connections. */
  stopEdge(): Promise<void>;
  /**
   * Starts it again on the same port with the same D1/DO state; `bindings` replaces secrets for
   * this and later starts (an operator's `wrangler secret put` before a redeploy).
   */
  startEdgeAgain(bindings?: Partial<EdgeSecretsAndVars>): Promise<void>;
  /** GET /admin/v1/decisions (newest first) with the test admin token. */
  decisions(query: Record<string, string | number>): Promise<StoredDecision[]>;
  /** GET /admin/v1/relays: each relay's last heartbeat, one row per site and key. */
  relays(): Promise<RelayStatus[]>;
  close(): Promise<void>;
}

export async function startDuoAndEdge(
  opts: {
    emulator?: EmulatorOptions;
    deadlines?: EdgeBindingOptions['deadlines'];
    /** SITES_CONFIG as deployed, instead of the test sites (e.g. with a broken entry). */
    sitesConfig?: string;
  } = {},
): Promise<DuoAndEdge> {
  const persistDir = await mkdtemp(join(tmpdir(), 'duo-edge-stack-'));
  const bindingsFor = (duoUrl: string): EdgeSecretsAndVars => ({
    ...edgeTestBindings(duoUrl, { deadlines: opts.deadlines ?? 'test' }),
    ...(opts.sitesConfig === undefined ? {} : { SITES_CONFIG: opts.sitesConfig }),
  });
  let launched: LaunchedDuoAndEdge;
  try {
    launched = await launchDuoAndEdge({
      persistDir,
      ...(opts.emulator ? { emulator: opts.emulator } : {}),
      bindings: bindingsFor,
    });
  } catch (error) {
    await rm(persistDir, { recursive: true, force: true });
    throw error;
  }
  let bindings = bindingsFor(launched.duoUrl);
  const emulator = launched.emulator!;
  let edge: RunningEdge | undefined = launched.edge;
  const edgeUrl = launched.edge.url;
  const port = Number(new URL(edgeUrl).port);
  return {
    emulator,
    edgeUrl,
    async stopEdge() {
      await edge?.stop();
      edge = undefined;
    },
    async startEdgeAgain(next) {
      bindings = { ...bindings, ...next };
      edge ??= await startEdge({ bindings, persistDir, port });
    },
    async decisions(query) {
      const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
      return (await adminGet<{ records: StoredDecision[] }>(edgeUrl, `decisions?${qs}`)).records;
    },
    async relays() {
      return (await adminGet<{ relays: RelayStatus[] }>(edgeUrl, 'relays')).relays;
    },
    async close() {
      await edge?.stop();
      await emulator.close();
      await rm(persistDir, { recursive: true, force: true });
    },
  };
}

async function adminGet<T>(edgeUrl: string, path: string): Promise<T> {
  const res = await fetch(`${edgeUrl}/admin/v1/${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  if (!res.ok) throw new Error(`admin ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

// ---- relay config ---------------------------------------------------------------------------------

export interface RelaySetup {
  site: StackSite;
  /**
   * What the relay applies before it has the site policy; match the site's to keep runs
   * deterministic. Omitted: `relay.failmode` is left unset (the relay's default).
   */
  failmode?: 'safe' | 'secure';
  edgeUrls: string[];
  radiusPort: number;
  /** Management port (/metrics, /readyz); omitted: disabled. */
  managementPort?: number;
  /** Omitted: the relay's defaults. */
  preauthTimeoutMs?: number;
  authTimeoutMs?: number;
  /** Pinned edge keys; default the test edge key alone (written as the one-key `public_key`). */
  edgePublicKeys?: string[];
  /** The relay's private key (PEM); default the site's test key. */
  relayKeyPem?: string;
  breakerThreshold?: number;
  probeIntervalMs?: number;
  logLevel?: LogLevel;
  /** Upload interval of the offline journal; default the relay's. */
  journalUploadMs?: number;
  /** `reject_delay_ms` of the server section; default the relay's (1 s). */
  rejectDelayMs?: number;
  /** Both caps on concurrent primary checks (overall and per client); default the relay's. */
  maxPrimaryChecks?: number;
  /** The server section's mode; default `auto`. */
  mode?: 'auto' | 'duo_only' | 'challenge' | 'concat';
  /** More TOML lines for the server section (e.g. `prompt_format = "short"`). */
  serverLines?: string;
  /** More TOML lines for the [log] section (e.g. `syslog = "udp://…"`). */
  logLines?: string;
  /** More `[edge]` lines as written (e.g. the outbound proxy keys). */
  edgeExtraToml?: string;
  /** The `[primary]` section's lines as written; default the users file of the demo users. */
  primaryToml?: string;
}

/**
 * Writes key, users file (demo users, scrypt at the lowest cost the relay accepts so that primary
 * auth does not dominate a load run) and relay.toml into `dir`; returns the config path.
 */
export async function writeRelayConfig(dir: string, s: RelaySetup): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'relay.key'), s.relayKeyPem ?? SITE_KEYS[s.site].privateKeyPem, { mode: 0o600 });
  const lines = await Promise.all(
    STACK_USERS.map(async (u) => {
      const salt = randomBytes(16);
      const params = { N: 1024, r: 8, p: 1 };
      return `${u}:${formatScryptHash({ ...params, salt, hash: await derive(`${u}-pass`, { ...params, salt }, 32) })}`;
    }),
  );
  await writeFile(join(dir, 'users.txt'), `${lines.join('\n')}\n`);
  const management = s.managementPort === undefined ? 'enabled = false' : `listen = "127.0.0.1:${s.managementPort}"`;
  const keys = s.edgePublicKeys ?? [EDGE_KEY.publicKey];
  const optional = (line: string, value: unknown) => (value === undefined ? '' : `${line}\n`);
  const toml = `
[relay]
site = "${s.site}"
key_file = "relay.key"
state_dir = "state"
${optional(`failmode = "${s.failmode}"`, s.failmode)}shutdown_grace_ms = 2000
${s.maxPrimaryChecks === undefined ? '' : `max_primary_checks = ${s.maxPrimaryChecks}\nmax_primary_checks_per_client = ${s.maxPrimaryChecks}`}

[edge]
urls = [${s.edgeUrls.map((u) => `"${u}"`).join(', ')}]
${keys.length === 1 ? `public_key = "${keys[0]}"` : `public_keys = [${keys.map((k) => `"${k}"`).join(', ')}]`}
${optional(`preauth_timeout_ms = ${s.preauthTimeoutMs}`, s.preauthTimeoutMs)}${optional(`auth_timeout_ms = ${s.authTimeoutMs}`, s.authTimeoutMs)}breaker_threshold = ${s.breakerThreshold ?? 3}
probe_interval_ms = ${s.probeIntervalMs ?? 500}
${s.edgeExtraToml ?? ''}

[log]
level = "${s.logLevel ?? 'silent'}"
${s.logLines ?? ''}

[management]
${management}

[journal]
upload_interval_ms = ${s.journalUploadMs ?? 30_000}

[primary]
${s.primaryToml ?? 'type = "users_file"\npath = "users.txt"'}

[[server]]
mode = "${s.mode ?? 'auto'}"
listen = ["127.0.0.1:${s.radiusPort}"]
${s.rejectDelayMs === undefined ? '' : `reject_delay_ms = ${s.rejectDelayMs}`}
${s.serverLines ?? ''}

[[server.client]]
name = "loopback"
ip = "127.0.0.1"
secret = "${STACK_RADIUS_SECRET}"
`;
  const file = join(dir, 'relay.toml');
  await writeFile(file, toml);
  return file;
}

/** A further `[[server]]` in mode auto on its own edge site, one loopback client: append it to a relay.toml. */
export const siteServerToml = (site: string, port: number, secret = STACK_RADIUS_SECRET): string => `
[[server]]
mode = "auto"
site = "${site}"
listen = ["127.0.0.1:${port}"]

[[server.client]]
name = "loopback"
ip = "127.0.0.1"
secret = "${secret}"
`;

/** The `start` wiring in this process; resolves once the site policy came from the edge. */
export async function startRelayInProcess(
  file: string,
  opts: { onDecision?: DecisionHook; waitForPolicyMs?: number } = {},
): Promise<RelayRuntime> {
  const runtime = await launchRelay(file, opts.onDecision ? { onDecision: opts.onDecision } : {});
  if (opts.waitForPolicyMs !== 0 && !(await policyFromEdge(runtime, opts.waitForPolicyMs ?? 20_000))) {
    await runtime.stop(0);
    throw new Error('timed out waiting for the site policy from the edge');
  }
  return runtime;
}

export interface RelayProcess {
  pid: number;
  managementUrl: string;
  /** stdout and stderr so far. */
  output(): string;
  /** Still running? */
  alive(): boolean;
  /** SIGTERM, SIGKILL after killAfterMs; resolves with the exit code. */
  stop(killAfterMs?: number): Promise<number | null>;
}

/** How to run `duo-relay`: the program and the arguments before the command, where, with what environment. */
export interface RelayLaunch {
  command: readonly [string, ...string[]];
  cwd: string;
  /** The whole environment; default this process's. */
  env?: ChildEnv;
}

/** The relay from this checkout, on the Node running the tests, with the V8 settings it ships with. */
export const RELAY_FROM_CHECKOUT: RelayLaunch = {
  command: [process.execPath, ...RELAY_NODE_FLAGS, DUO_RELAY_BIN],
  cwd: ROOT,
};

/** `duo-relay start --config FILE` as an operator runs it; ready once /readyz answers 200. */
export async function spawnRelay(
  file: string,
  managementPort: number,
  readyTimeoutMs = 30_000,
  launch: RelayLaunch = RELAY_FROM_CHECKOUT,
): Promise<RelayProcess> {
  const [program, ...before] = launch.command;
  const child = spawnChild(program, [...before, 'start', '--config', file], {
    cwd: launch.cwd,
    ...(launch.env ? { env: launch.env } : {}),
  });
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  const proc: RelayProcess = {
    pid: child.pid,
    managementUrl,
    output: child.output,
    alive: child.alive,
    stop: (killAfterMs = 10_000) => child.stop('SIGTERM', killAfterMs),
  };
  try {
    await waitFor(
      async () => {
        if (!proc.alive()) throw new Error(`duo-relay exited:\n${proc.output()}`);
        return fetch(`${managementUrl}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
      },
      readyTimeoutMs,
      'duo-relay /readyz',
    );
  } catch (error) {
    await proc.stop(0);
    throw error;
  }
  return proc;
}

export interface SpawnedRelay {
  relay: RelayProcess;
  client: RadiusLoginClient;
  dir: string;
  /** The setup its relay.toml was written from (ports filled in). */
  setup: RelaySetup;
  close(): Promise<void>;
}

/** A relay.toml in a new temp dir, `duo-relay start` on it, and a RADIUS client (one lane) to it. */
export async function spawnRelayWithClient(
  prefix: string,
  partial: Omit<RelaySetup, 'radiusPort' | 'managementPort'>,
): Promise<SpawnedRelay> {
  const dir = await stackDir(prefix);
  const setup: RelaySetup = { ...partial, radiusPort: await freeUdpPort(), managementPort: await freeTcpPort() };
  const relay = await spawnRelay(await writeRelayConfig(dir, setup), setup.managementPort!);
  const client = await RadiusLoginClient.open({ port: setup.radiusPort, secret: STACK_RADIUS_SECRET, lanes: 1 });
  return {
    relay,
    client,
    dir,
    setup,
    async close() {
      await client.close();
      await relay.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One Prometheus sample from the relay's /metrics (first match of name and label text). */
export async function scrapeMetric(managementUrl: string, name: string, labels = ''): Promise<number | undefined> {
  const text = await (await fetch(`${managementUrl}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (labels && !rest.includes(labels)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

// ---- a broken edge --------------------------------------------------------------------------------

/**
 * How the proxy breaks one stage (`/v1/preauth` or `/v1/auth`); other paths always pass through.
 * refused: the port is closed (for `auth`, right after the preauth answer); hung: the request is
 * accepted and never answered; 5xx: HTTP 500; bad_signature_*: the real edge's answer with one
 * byte of the decision signature, or of the signed body, flipped; oversized_2xx: the real edge's
 * answer padded past the relay's 64 KiB cap, signature dropped; not_json_2xx: an unsigned HTML
 * page with status 200 (a captive portal); signed_unparseable: a body no relay version parses,
 * correctly signed with the edge's key for this request (version skew).
 */
export type EdgeFault =
  | 'refused'
  | 'hung'
  | '5xx'
  | 'bad_signature_header'
  | 'bad_signature_body'
  | 'oversized_2xx'
  | 'not_json_2xx'
  | 'signed_unparseable';
export type EdgeStage = 'preauth' | 'auth';

/** A request as the proxy received it: what a capture on the relay's network would hold. */
export interface CapturedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface EdgeFaultProxy {
  url: string;
  /** Every request that passed through, oldest first. */
  captured: CapturedRequest[];
  set(stage: EdgeStage, fault: EdgeFault): Promise<void>;
  /** Back to a transparent proxy (listening again, held requests dropped). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** Not forwarded: per-connection headers, and encodings fetch() has already undone. */
const HOP_BY_HOP = new Set([
  'host',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
  'content-encoding',
]);

export async function startEdgeFaultProxy(target: string): Promise<EdgeFaultProxy> {
  const faults = new Map<EdgeStage, EdgeFault>();
  const captured: CapturedRequest[] = [];
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();
  const server = createHttpServer((req, res) => {
    handle(req, res).catch(() => res.socket?.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  let listening = true;

  const stopListening = async (except?: Socket) => {
    if (listening) {
      listening = false;
      const closed = new Promise((r) => server.close(r));
      for (const s of sockets) if (s !== except) s.destroy();
      if (!except) await closed;
    }
  };
  const listenAgain = async () => {
    if (!listening) {
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
      listening = true;
    }
  };

  async function forward(req: IncomingMessage, body: Buffer) {
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k, v]) => !HOP_BY_HOP.has(k) && typeof v === 'string') as Array<
        [string, string]
      >,
    );
    const upstream = await fetch(`${target}${req.url}`, {
      method: req.method!,
      headers,
      ...(req.method === 'POST' ? { body } : {}),
    });
    return {
      status: upstream.status,
      headers: Object.fromEntries([...upstream.headers].filter(([k]) => !HOP_BY_HOP.has(k))),
      body: Buffer.from(await upstream.arrayBuffer()),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = new URL(req.url!, 'http://x').pathname;
    captured.push({
      method: req.method!,
      path,
      headers: Object.fromEntries(Object.entries(req.headers).filter(([, v]) => typeof v === 'string')) as Record<
        string,
        string
      >,
      body: Buffer.concat(chunks),
    });
    const stage: EdgeStage | undefined = path === '/v1/preauth' ? 'preauth' : path === '/v1/auth' ? 'auth' : undefined;
    const fault = stage && faults.get(stage);
    if (fault === 'hung') {
      held.add(res);
      return;
    }
    if (fault === '5xx') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal"}');
      return;
    }
    if (fault === 'not_json_2xx') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Sign in to the network</body></html>');
      return;
    }
    if (fault === 'signed_unparseable') {
      const body = utf8(JSON.stringify({ v: 2, verdict: 'permit', note: 'a wire version this relay predates' }));
      const nonce = String(req.headers[HEADER.nonce] ?? '');
      const signature = await sign(await edgeSigningKey(), await decisionMessage({ path, nonce, body }));
      res.writeHead(200, { 'content-type': 'application/json', [HEADER.decisionSignature]: signature }).end(body);
      return;
    }
    let answer: Awaited<ReturnType<typeof forward>>;
    try {
      answer = await forward(req, Buffer.concat(chunks));
    } catch {
      res.socket?.destroy();
      return;
    }
    if (fault === 'bad_signature_header') {
      const sig = answer.headers[HEADER.decisionSignature] ?? '';
      answer.headers[HEADER.decisionSignature] = flipChar(sig, Math.floor(sig.length / 2));
    } else if (fault === 'bad_signature_body' && answer.body.length > 0) {
      const i = Math.floor(answer.body.length / 2);
      answer.body[i] = answer.body[i]! ^ 0x01;
    } else if (fault === 'oversized_2xx') {
      delete answer.headers[HEADER.decisionSignature];
      answer.body = Buffer.concat([answer.body, Buffer.alloc(128 * 1024, 0x20)]);
    }
    if (stage === 'preauth' && faults.get('auth') === 'refused') {
      // The login's next call (/v1/auth) must find the port closed: stop listening and drop every
      // pooled connection before this answer goes out, and close this one after it.
      await stopListening(req.socket);
      res.setHeader('connection', 'close');
    }
    res.writeHead(answer.status, answer.headers).end(answer.body);
  }

  const dropHeld = () => {
    for (const r of held) r.socket?.destroy();
    held.clear();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    captured,
    async set(stage, fault) {
      faults.set(stage, fault);
      if (fault === 'refused' && stage === 'preauth') await stopListening();
    },
    async clear() {
      faults.clear();
      dropHeld();
      await listenAgain();
    },
    async close() {
      faults.clear();
      dropHeld();
      await stopListening();
    },
  };
}

/** The test edge's signing key, as the worker holds it (EDGE_SIGNING_KEY). */
async function edgeSigningKey(): Promise<Key> {
  const key = await importPrivateKeyPem(EDGE_KEY.privateKeyPem);
  if (!key) throw new Error('EDGE_KEY is not an Ed25519 PKCS#8 key');
  return key;
}

function flipChar(s: string, i: number): string {
  if (s.length === 0) return 'A';
  const c = s[i] === 'A' ? 'B' : 'A';
  return s.slice(0, i) + c + s.slice(i + 1);
}

/** Accepts TCP connections and never sends a byte: an edge that hangs. */
export async function startHungServer(port = 0): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createTcpServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const bound = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    async close() {
      const closed = new Promise((r) => server.close(r));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** A temp dir for one run's relay files. */
export const stackDir = (prefix: string): Promise<string> => mkdtemp(join(tmpdir(), `${prefix}-`));
