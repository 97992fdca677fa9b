/**
 * `npm run bench:edge`: signed POST /v1/auth decisions per second and latency.
 *
 * 1. The real worker (workerd through the edge harness) against the Duo emulator answering at
 *    once, at concurrency 1 and 50.
 * 2. The emulator alone (one signed Duo /auth/v2/auth per call), to subtract from 1.
 * 3. The worker's own code in-process (Node), with a Duo stub that answers synchronously: the
 *    time the edge itself spends per decision (relay signature check, validation, decision,
 *    decision signature), with and without the replay check (the nonce seen-set the user's gate
 *    keeps, here on node:sqlite in place of the Durable Object's SQLite), side by side.
 */
import { DatabaseSync } from 'node:sqlite';
import { err, ok } from '@duo-edge/contract/result';
import { REPLAY_WINDOW_MS } from '@duo-edge/contract/signing';
import { createApp } from '../../src/app.ts';
import { NonceLog } from '../../src/coordination/nonce-log.ts';
import { type AuthJob, authRunner } from '../../src/coordination/runner.ts';
import type { GateJob } from '../../src/coordination/user-gate.ts';
import { noopRecorder } from '../../src/decision/audit-hook.ts';
import type { DuoClient } from '../../src/duo/api.ts';
import { createDuoClient } from '../../src/duo/client.ts';
import { duoReachability } from '../../src/duo/reachability.ts';
import { edgeServicesFactory } from '../../src/edge/services.ts';
import { sitesLoader } from '../../src/sites/load.ts';
import { DEMO_INTEGRATION, startEmulator } from '../support/duo-emulator/index.ts';
import { EXEMPT_USER, edgeTestBindings } from '../support/edge-bindings.ts';
import { startEdge } from '../support/edge-harness.ts';
import { RELAY_A_KEY } from '../support/keys.ts';
import { signedRequest } from '../support/relay-signer.ts';

const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 3000);
/** One login_id for every call: concurrent calls join one Duo call, as a NAS retransmit would. */
const AUTH_BODY = {
  username: 'frank',
  factor: 'passcode',
  passcode: '123456',
  primary: 'passed',
  login_id: 'b'.repeat(64),
} as const;

interface Row {
  scenario: string;
  concurrency: number;
  count: number;
  perSecond: number;
  mean: number;
  p50: number;
  p99: number;
}

/** Runs `op` from `concurrency` loops for PHASE_MS after a short warm-up; latencies in ms. */
async function phase(scenario: string, concurrency: number, op: () => Promise<void>): Promise<Row> {
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) await op();
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + PHASE_MS;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await op();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - start;
  latencies.sort((a, b) => a - b);
  const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    scenario,
    concurrency,
    count: latencies.length,
    perSecond: (latencies.length / elapsed) * 1000,
    mean: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    p50: pick(0.5),
    p99: pick(0.99),
  };
}

function table(rows: Row[]): string {
  const head = ['scenario', 'conc.', 'decisions', 'decisions/s', 'mean ms', 'p50 ms', 'p99 ms'];
  const body = rows.map((r) => [
    r.scenario,
    String(r.concurrency),
    String(r.count),
    r.perSecond.toFixed(0),
    r.mean.toFixed(3),
    r.p50.toFixed(3),
    r.p99.toFixed(3),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function expectAllow(res: Response): Promise<void> {
  const body = (await res.json()) as { result?: string };
  if (res.status !== 200 || body.result !== 'allow')
    throw new Error(`unexpected answer ${res.status} ${JSON.stringify(body)}`);
}

const emulator = await startEmulator({ pushDelayMs: 0 });
const bindings = edgeTestBindings(emulator.url, { deadlines: 'production' });
const edge = await startEdge({ bindings });
const rows: Row[] = [];
try {
  const viaWorker = async () => {
    const { request } = await signedRequest(edge.url, {
      site: 'site-a',
      key: RELAY_A_KEY,
      method: 'POST',
      path: '/v1/auth',
      body: AUTH_BODY,
    });
    await expectAllow(await fetch(request));
  };
  rows.push(await phase('workerd edge + emulator (HTTP)', 1, viaWorker));
  rows.push(await phase('workerd edge + emulator (HTTP)', 50, viaWorker));

  // An exempt user's preauth is decided without Duo: the full signed round trip through workerd.
  const noDuo = async () => {
    const { request } = await signedRequest(edge.url, {
      site: 'site-a',
      key: RELAY_A_KEY,
      method: 'POST',
      path: '/v1/preauth',
      body: { username: EXEMPT_USER, primary: 'passed' },
    });
    await expectAllow(await fetch(request));
  };
  rows.push(await phase('workerd edge, no Duo call (exempt)', 1, noDuo));
  rows.push(await phase('workerd edge, no Duo call (exempt)', 50, noDuo));
  const health = async () => {
    const res = await fetch(`${edge.url}/v1/health`);
    await res.arrayBuffer();
  };
  rows.push(await phase('workerd GET /v1/health (HTTP floor)', 1, health));

  const duo = createDuoClient(DEMO_INTEGRATION, { baseUrl: emulator.url });
  const viaEmulator = async () => {
    const r = await duo.auth(
      { username: 'frank', factor: 'passcode', passcode: '123456' },
      { deadline: Date.now() + 10_000 },
    );
    if (!r.ok || r.value.result !== 'allow') throw new Error('emulator did not allow');
  };
  rows.push(await phase('emulator alone (signed Duo call)', 1, viaEmulator));
  rows.push(await phase('emulator alone (signed Duo call)', 50, viaEmulator));

  const instantDuo = {
    auth: async () => ({
      ok: true,
      value: { result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' },
    }),
  } as unknown as DuoClient;
  // createEdge's wiring without its Durable Object classes, which need the Workers runtime.
  const loadSites = sitesLoader();
  const services = edgeServicesFactory(loadSites, { createDuo: () => instantDuo, recorder: () => noopRecorder });
  const app = createApp({ services, loadSites, duoReachability: duoReachability() });
  const runAuth = authRunner(services);
  // No Durable Objects or D1 in Node: a stand-in namespace runs the gate's Duo step in-process, so
  // these rows are the edge's own work (auth, validation, decision, signing). One claims each nonce
  // in the same NonceLog the gate uses, on SQLite; the other skips it: their difference is what the
  // replay check adds to /v1/auth, which visits the gate anyway.
  const nonces = new NonceLog(nodeSqlStorage(new DatabaseSync(':memory:')));
  const inProcessEnv = (replayCheck: boolean) => {
    const env = {
      ...bindings,
      USER_GATE: {
        getByName: () => ({
          auth: async (job: GateJob) => {
            if (replayCheck && !nonces.claim(job.relayKey, job.nonce, Date.now(), REPLAY_WINDOW_MS)) {
              return err('replayed');
            }
            return ok({ ...(await runAuth(env as unknown as Env, job satisfies AuthJob)), joined: false });
          },
        }),
      },
    };
    return env as unknown as Env;
  };
  const inProcess = (env: Env) => async () => {
    const { request } = await signedRequest('https://edge.bench', {
      site: 'site-a',
      key: RELAY_A_KEY,
      method: 'POST',
      path: '/v1/auth',
      body: AUTH_BODY,
    });
    await expectAllow(await app.request(request, undefined, env));
  };
  rows.push(await phase('edge code in-process, instant Duo, no nonce check', 1, inProcess(inProcessEnv(false))));
  rows.push(await phase('edge code in-process, instant Duo, nonce check', 1, inProcess(inProcessEnv(true))));
  // Relay-side signing for comparison: it is included in the in-process row above.
  rows.push(
    await phase('(relay request signing alone)', 1, async () => {
      await signedRequest('https://edge.bench', {
        site: 'site-a',
        key: RELAY_A_KEY,
        method: 'POST',
        path: '/v1/auth',
        body: AUTH_BODY,
      });
    }),
  );
} finally {
  await edge.stop();
  await emulator.close();
}

console.log(`\nPOST /v1/auth (factor passcode), ${PHASE_MS} ms per phase, Node ${process.version}\n`);
console.log(table(rows));
const at1 = (prefix: string) =>
  rows.find((r) => r.concurrency === 1 && r.scenario.startsWith(prefix))?.mean ?? Number.NaN;
const ms = (n: number) => `${n.toFixed(3)} ms`;
console.log(`
At concurrency 1 (means):
  workerd edge + emulator - emulator alone:      ${ms(at1('workerd edge + emulator') - at1('emulator alone'))}
  workerd edge without Duo - HTTP floor (health): ${ms(at1('workerd edge, no Duo') - at1('workerd GET'))}
  edge code in-process - relay signing:           ${ms(at1('edge code in-process, instant Duo, nonce check') - at1('(relay request signing'))}  <- worker time per decision
  nonce check (with - without, in-process):       ${ms(at1('edge code in-process, instant Duo, nonce check') - at1('edge code in-process, instant Duo, no nonce check'))}  <- added by the replay check`);

/** The slice of the Durable Object SqlStorage API that NonceLog uses, on node:sqlite. */
function nodeSqlStorage(db: DatabaseSync): SqlStorage {
  return {
    exec(query: string, ...bindings: Array<string | number>) {
      if (bindings.length === 0 && query.includes(';')) {
        db.exec(query);
        return { one: () => undefined };
      }
      const rows = db.prepare(query).all(...bindings);
      return { one: () => rows[0] };
    },
  } as unknown as SqlStorage;
}
