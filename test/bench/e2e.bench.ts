/**
 * End to end: NAS → relay → edge (workerd) → Duo emulator answering pushes at once.
 *
 *   npx node test/bench/e2e.bench.ts [--seconds 10]
 *
 * `duo-relay start` as a child, the real worker through wrangler's dev runtime (local D1 + DO),
 * site-b (blocking push: one Duo call per auth, no polling), alice with a fresh Calling-Station-Id
 * per login so no two logins share a push. Closed loop at concurrency 1, 50 and 500 for --seconds
 * each. The relay's own /metrics splits the time: edge calls (preauth + auth, emulator included)
 * versus the rest (RADIUS, primary auth with scrypt N=1024, signing, the flow).
 */
import { scrapeMetric, startDuoAndEdge } from '../support/stack.ts';
import { benchArgs } from './lib/args.ts';
import { startBenchRelay } from './lib/bench-relay.ts';
import { closedLoop, stationIp } from './lib/radius-load.ts';
import { ms, printHeader, summarize, table } from './lib/stats.ts';

const { seconds: SECONDS } = benchArgs({ seconds: 10 });
const LEVELS = [1, 50, 500];

const stack = await startDuoAndEdge({ emulator: { pushDelayMs: 0 }, deadlines: 'production' });
const bench = await startBenchRelay('e2e-bench', stack.edgeUrl, { preauthTimeoutMs: 30_000 });
const { relay, client } = bench;

/** Seconds spent in successful edge calls so far, and how many (preauth + auth). */
async function edgeTime(): Promise<{ sum: number; count: number }> {
  let sum = 0;
  let count = 0;
  for (const stage of ['preauth', 'auth']) {
    const labels = `stage="${stage}",outcome="ok"`;
    sum += (await scrapeMetric(relay.managementUrl, 'duo_relay_edge_request_duration_seconds_sum', labels)) ?? 0;
    count += (await scrapeMetric(relay.managementUrl, 'duo_relay_edge_request_duration_seconds_count', labels)) ?? 0;
  }
  return { sum, count };
}

let n = 0;
const login = () =>
  client.login({ username: 'alice', password: 'alice-pass', callingStationId: stationIp(n++) }, { timeoutMs: 60_000 });

try {
  // Warm the worker, its Durable Object and D1 before measuring.
  await closedLoop(10, 3_000, login);
  const rows: Array<Array<string | number>> = [];
  for (const c of LEVELS) {
    const before = await edgeTime();
    const { results, seconds } = await closedLoop(c, SECONDS * 1000, login);
    const after = await edgeTime();
    const ok = results.filter((r) => r.replies[0]?.code === 2);
    const total = summarize(ok.map((r) => r.replies[0]!.latencyMs));
    const edgeMsPerLogin = ((after.sum - before.sum) * 1000) / Math.max(1, ok.length);
    rows.push([
      c,
      results.length,
      (ok.length / seconds).toFixed(1),
      `${results.length - ok.length}`,
      ms(total.p50),
      ms(total.p99),
      ms(total.mean),
      ms(edgeMsPerLogin),
      ms(total.mean - edgeMsPerLogin),
    ]);
  }
  printHeader(
    'End to end: relay → edge (workerd) → Duo emulator (push answered at once)',
    `closed loop, ${SECONDS} s per level; latency from the NAS's send to the Access-Accept`,
  );
  console.log(
    table(
      [
        'concurrency',
        'logins',
        'accepts/s',
        'not accepted',
        'p50 (ms)',
        'p99 (ms)',
        'mean (ms)',
        'in edge calls, mean (ms)',
        'relay-added, mean (ms)',
      ],
      rows,
    ),
  );
  console.log(
    '\n"in edge calls" = relay-measured preauth + auth round trips (workerd, the Durable Object, D1 audit' +
      ' writes and the emulator); "relay-added" = the rest of the login inside the relay.',
  );
} finally {
  await bench.close();
  await stack.close();
}
