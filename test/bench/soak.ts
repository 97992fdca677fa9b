/**
 * Soak: steady load through the whole path, sampling the relay every 10 s.
 *
 *   npx node test/bench/soak.ts [--seconds 600] [--rate 20]
 *
 * NAS → `duo-relay start` (child) → edge (workerd) → emulator (pushes approved after 300 ms).
 * Open loop at --rate logins/s, alternating alice (push) and carol (Duo bypass), each login from a
 * fresh Calling-Station-Id. Every 10 s: relay RSS (/proc), event-loop delay p99 from the relay's
 * /metrics (prom-client's monitorEventLoopDelay, reset at each scrape), logins answered, and their latency.
 */
import { scrapeMetric, startDuoAndEdge } from '../support/stack.ts';
import { benchArgs } from './lib/args.ts';
import { startBenchRelay } from './lib/bench-relay.ts';
import { rssMiB } from './lib/process-memory.ts';
import { type LoginResult, stationIp } from './lib/radius-load.ts';
import { ms, printHeader, sleep, summarize, table } from './lib/stats.ts';

const { seconds: SECONDS, rate: RATE } = benchArgs({ seconds: 600, rate: 20 });
const SAMPLE_MS = 10_000;

const stack = await startDuoAndEdge({ emulator: { pushDelayMs: 300 }, deadlines: 'production' });
const bench = await startBenchRelay('soak', stack.edgeUrl, { preauthTimeoutMs: 10_000 });
const { relay, client } = bench;

let window: LoginResult[] = [];
const pending = new Set<Promise<void>>();
let n = 0;
const expected = { alice: 'Success. Logging you in...', carol: 'Allowing user in bypass mode' } as const;
let unexpected = 0;
let unanswered = 0;

function startLogin(): void {
  const user = n % 2 === 0 ? 'alice' : 'carol';
  const p = client
    .login({ username: user, password: `${user}-pass`, callingStationId: stationIp(n++) }, { timeoutMs: 30_000 })
    .then((r) => {
      if (r.replies.length === 0) unanswered++;
      else if (r.replies[0]!.code !== 2 || r.replies[0]!.replyMessage !== expected[user]) unexpected++;
      window.push(r);
    })
    .finally(() => pending.delete(p));
  pending.add(p);
}

const rows: Array<Array<string | number>> = [];
try {
  const began = performance.now();
  let nextSample = began + SAMPLE_MS;
  let sent = 0;
  while (performance.now() - began < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - began) / 1000) * RATE);
    while (sent < due) {
      startLogin();
      sent++;
    }
    if (performance.now() >= nextSample) {
      nextSample += SAMPLE_MS;
      const lat = summarize(window.map((r) => r.replies[0]?.latencyMs ?? Number.NaN).filter(Number.isFinite));
      const lagP99 = (await scrapeMetric(relay.managementUrl, 'duo_relay_nodejs_eventloop_lag_p99_seconds')) ?? NaN;
      rows.push([
        Math.round((performance.now() - began) / 1000),
        (await rssMiB(relay.pid)).toFixed(1),
        ms(lagP99 * 1000),
        window.length,
        ms(lat.p50),
        ms(lat.p99),
        unexpected,
        unanswered,
      ]);
      console.error(`  ${rows.at(-1)!.join('  ')}`);
      window = [];
    }
    await sleep(5);
  }
  await Promise.all(pending);
  printHeader(`Soak: ${SECONDS} s at ${RATE} logins/s (alice push / carol bypass)`);
  console.log(
    table(
      [
        't (s)',
        'relay RSS (MiB)',
        'loop delay p99 (ms)',
        'answered',
        'p50 (ms)',
        'p99 (ms)',
        'unexpected (cum.)',
        'unanswered (cum.)',
      ],
      rows,
    ),
  );
  console.log(`\n${n} logins sent, ${unexpected} unexpected answers, ${unanswered} unanswered`);
} finally {
  await bench.close();
  await stack.close();
}
