/**
 * Failmode under an edge outage: how fast the relay answers when the edge is gone.
 *
 *   npx node test/bench/outage.bench.ts [--open-logins 2000] [--journal-sync batch|before_reply]
 *
 * NAS → `duo-relay start` (child, default edge timeouts: preauth 5 s, breaker after 3 transport
 * failures, probe every 5 s) → edge (workerd) → emulator. Per outage kind — refused (edge stopped,
 * port closed) and hung (a TCP server on the edge's port that accepts and never answers):
 * time to the first failmode decision, p50/p99 once the breaker is open (goal p99 < 5 ms), and
 * time from the edge listening again to the first login decided by Duo again.
 *
 * What the failmode decision itself adds (goal: < 0.5 ms at p99) is measured against peers answered
 * by the primary alone, on the same relay, interleaved login by login while the breaker is open:
 *   - exempt: dave, in the section's exempt_usernames, with the same users-file hash parameters as
 *     carol: primary check, then an Access-Accept the relay decides and journals itself, as it does
 *     a failmode decision. Failmode minus exempt is the failmode path (breaker, policy, reply text).
 *   - wrong password: carol with a bad password: the same primary check, an Access-Reject (no
 *     reject delay here), nothing journalled. Failmode minus this also counts the journal append.
 */
import { REPLY } from '@duo-edge/contract/messages';
import { scrapeMetric, startDuoAndEdge, startHungServer } from '../support/stack.ts';
import { benchArgs } from './lib/args.ts';
import { startBenchRelay } from './lib/bench-relay.ts';
import { closedLoop, type LoginResult } from './lib/radius-load.ts';
import { ms, printHeader, sleep, summarize, table } from './lib/stats.ts';

const args = benchArgs({
  'open-logins': 2000,
  // Every failmode decision is journalled: what its reply waits for is most of what is measured.
  'journal-sync': 'batch',
});
const OPEN_LOGINS = args['open-logins'];
const JOURNAL_SYNC = args['journal-sync'];
if (JOURNAL_SYNC !== 'batch' && JOURNAL_SYNC !== 'before_reply')
  throw new Error('--journal-sync: batch or before_reply');
const PREAUTH_TIMEOUT_MS = 5_000;
const PROBE_MS = 5_000;

const stack = await startDuoAndEdge({ emulator: { pushDelayMs: 0 }, deadlines: 'test' });
const edgePort = Number(new URL(stack.edgeUrl).port);
const bench = await startBenchRelay(
  'outage-bench',
  stack.edgeUrl,
  {
    site: 'site-a',
    failmode: 'safe',
    preauthTimeoutMs: PREAUTH_TIMEOUT_MS,
    breakerThreshold: 3,
    probeIntervalMs: PROBE_MS,
  },
  {
    patchConfig: (toml) =>
      toml
        .replace('[journal]\n', `[journal]\nsync = "${JOURNAL_SYNC}"\n`)
        .replace('[[server]]\n', '[[server]]\nexempt_usernames = ["dave"]\n'),
  },
);
const { relay, client } = bench;

/** carol is a Duo bypass user: one preauth, no push, so "decided by Duo" is quick to see. */
const login = () => client.login({ username: 'carol', password: 'carol-pass' }, { timeoutMs: 30_000 });
const exemptLogin = () => client.login({ username: 'dave', password: 'dave-pass' }, { timeoutMs: 30_000 });
const wrongPassword = () => client.login({ username: 'carol', password: 'not-carol-pass' }, { timeoutMs: 30_000 });
const failmode = (r: LoginResult) => r.replies[0]?.replyMessage === REPLY.failSafeAllowed;
const breakerOpen = async () => (await scrapeMetric(relay.managementUrl, 'duo_relay_breaker_state')) === 1;

interface Row {
  kind: string;
  first: number;
  toOpen: number;
  open: ReturnType<typeof summarize>;
  open50: ReturnType<typeof summarize>;
  open50Rate: number;
  resume: number;
  exempt: ReturnType<typeof summarize>;
  rejected: ReturnType<typeof summarize>;
}

async function outage(kind: string, breakEdge: () => Promise<() => Promise<void>>): Promise<Row> {
  for (let i = 0; i < 20; i++) if (failmode(await login())) throw new Error('edge not healthy before the outage');
  const restore = await breakEdge();
  const began = performance.now();
  const first = await login();
  if (!failmode(first)) throw new Error(`${kind}: first login after the outage was not a failmode decision`);
  const firstMs = performance.now() - began;
  while (!(await breakerOpen())) await login();
  const toOpen = performance.now() - began;

  const sequential: number[] = [];
  const exempt: number[] = [];
  const rejected: number[] = [];
  for (let i = 0; i < OPEN_LOGINS; i++) {
    const r = await login();
    if (!failmode(r)) throw new Error(`${kind}: not a failmode answer while open`);
    sequential.push(r.replies[0]!.latencyMs);
    const e = await exemptLogin();
    if (e.replies[0]?.code !== 2) throw new Error(`${kind}: the exempt user was not accepted`);
    exempt.push(e.replies[0].latencyMs);
    const w = await wrongPassword();
    if (w.replies[0]?.code !== 3) throw new Error(`${kind}: a wrong password was not rejected`);
    rejected.push(w.replies[0].latencyMs);
  }
  const c50 = await closedLoop(50, 5_000, () => login());
  const open50 = summarize(c50.results.map((r) => r.replies[0]?.latencyMs ?? Number.NaN));

  await restore();
  const back = performance.now();
  for (;;) {
    const r = await login();
    if (r.replies.length === 1 && !failmode(r)) break;
    await sleep(20);
  }
  return {
    kind,
    first: firstMs,
    toOpen,
    open: summarize(sequential),
    open50,
    open50Rate: c50.results.length / c50.seconds,
    resume: performance.now() - back,
    exempt: summarize(exempt),
    rejected: summarize(rejected),
  };
}

const rows: Row[] = [];
try {
  rows.push(
    await outage('refused (edge stopped)', async () => {
      await stack.stopEdge();
      return () => stack.startEdgeAgain();
    }),
  );
  rows.push(
    await outage('hung (accepts, never answers)', async () => {
      await stack.stopEdge();
      const hung = await startHungServer(edgePort);
      return async () => {
        await hung.close();
        await stack.startEdgeAgain();
      };
    }),
  );
  printHeader(
    'Failmode under an edge outage',
    `relay: preauth_timeout_ms ${PREAUTH_TIMEOUT_MS}, breaker_threshold 3, probe_interval_ms ${PROBE_MS}; ` +
      `journal sync ${JOURNAL_SYNC}; site failmode safe; ${OPEN_LOGINS} sequential logins (each followed by an ` +
      'exempt and a wrong-password login) + 5 s at concurrency 50 while open',
  );
  console.log(
    table(
      [
        'outage',
        'first failmode answer (ms)',
        'breaker open after (ms)',
        'open p50 (ms)',
        'open p99 (ms)',
        'open c=50 p50/p99 (ms)',
        'open c=50 decisions/s',
        'resume after edge back (ms)',
      ],
      rows.map((r) => [
        r.kind,
        ms(r.first),
        ms(r.toOpen),
        ms(r.open.p50),
        ms(r.open.p99),
        `${ms(r.open50.p50)} / ${ms(r.open50.p99)}`,
        r.open50Rate.toFixed(0),
        ms(r.resume),
      ]),
    ),
  );
  console.log(
    `\n${table(
      [
        'outage',
        'failmode p50 / p99 (ms)',
        'exempt (primary only, journalled) p50 / p99 (ms)',
        'wrong password (primary only) p50 / p99 (ms)',
        'failmode added at p99 vs exempt (ms)',
        'vs wrong password (ms)',
      ],
      rows.map((r) => [
        r.kind,
        `${ms(r.open.p50)} / ${ms(r.open.p99)}`,
        `${ms(r.exempt.p50)} / ${ms(r.exempt.p99)}`,
        `${ms(r.rejected.p50)} / ${ms(r.rejected.p99)}`,
        ms(r.open.p99 - r.exempt.p99),
        ms(r.open.p99 - r.rejected.p99),
      ]),
    )}`,
  );
  console.log(
    `\ngoal failmode adds < 0.5 ms at p99 over the primary-only exempt login: ` +
      `${rows.every((r) => r.open.p99 - r.exempt.p99 < 0.5) ? 'met' : 'NOT met'}` +
      ` (${rows.map((r) => `${r.kind}: ${ms(r.open.p99 - r.exempt.p99)} ms`).join('; ')})`,
  );
  console.log(
    `goal p99 < 5 ms once open: ${rows.every((r) => r.open.p99 < 5) ? 'met' : 'NOT met'}` +
      ` (sequential); resume = edge listening again → first login decided by Duo (probe every ${PROBE_MS} ms)`,
  );
} finally {
  await bench.close();
  await stack.close();
}
