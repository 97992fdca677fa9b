/**
 * Relay memory with logins waiting on pushes (goal: RSS < 200 MB at 10,000, so a small VM holds a site's morning rush).
 *
 *   npx node test/bench/memory.bench.ts [--logins 10000] [--rate 150]
 *
 * `duo-relay start` as a child process (its RSS from /proc) in front of a stand-in edge that
 * answers preauth at once and holds every /v1/auth (lib/held-edge.ts says why not workerd here).
 * Logins go out at --rate per second (faster, the relay's edge calls fall behind its 10 s preauth
 * timeout on this 2-core box and logins fail over to failmode) with a NAS retransmit after 5 s; once all are waiting, RSS is
 * sampled for 3 s, then every push is "approved" and the answers are counted. The relay's own
 * metrics split RSS into V8 heap (used/committed) and external memory, and count its descriptors
 * (one socket per waiting login while the edge speaks HTTP/1.1).
 */
import { scrapeMetric, waitFor } from '../support/stack.ts';
import { benchArgs } from './lib/args.ts';
import { startBenchRelay } from './lib/bench-relay.ts';
import { startHeldEdge } from './lib/held-edge.ts';
import { rssMiB, sampleRss } from './lib/process-memory.ts';
import { paced, stationIp } from './lib/radius-load.ts';
import { printHeader, sleep, table } from './lib/stats.ts';

const { logins: LOGINS, rate: RATE } = benchArgs({ logins: 10_000, rate: 150 });

const edge = await startHeldEdge('site-b');
const bench = await startBenchRelay(
  'memory-bench',
  edge.url,
  { preauthTimeoutMs: 10_000, authTimeoutMs: 300_000, logLevel: (process.env.RELAY_LOG as 'error') ?? 'error' },
  { lanes: Math.ceil(LOGINS / 256) + 1 },
);
const { relay, client } = bench;
try {
  await sleep(1_000);
  const idle = await rssMiB(relay.pid);
  const idleSplit = await memorySplit(relay.managementUrl);
  const during = sampleRss(relay.pid, 250);
  const started = performance.now();
  const logins = paced(LOGINS, RATE, (n) =>
    client.login(
      { username: 'alice', password: 'alice-pass', callingStationId: stationIp(n) },
      { timeoutMs: 600_000, retransmitAfterMs: 5_000 },
    ),
  );
  const progress = setInterval(async () => {
    const inFlight = await scrapeMetric(relay.managementUrl, 'duo_relay_in_flight').catch(() => undefined);
    console.error(
      `  ${((performance.now() - started) / 1000).toFixed(0)} s: held ${edge.held()}, relay in flight ${inFlight}`,
    );
  }, 5_000);
  await waitFor(() => edge.held() >= LOGINS, 60_000 + (LOGINS / RATE) * 1000, `${LOGINS} logins waiting`).finally(() =>
    clearInterval(progress),
  );
  const allWaitingAfter = (performance.now() - started) / 1000;
  await sleep(3_000);
  const waiting = await rssMiB(relay.pid);
  const waitingSplit = await memorySplit(relay.managementUrl);
  edge.release();
  const results = await logins;
  const { peak } = await during.stop();
  await sleep(2_000);
  const after = await rssMiB(relay.pid);
  const accepted = results.filter((r) => r.replies[0]?.code === 2).length;
  const answeredOnce = results.filter((r) => r.replies.length === 1).length;

  printHeader(`Relay memory, ${LOGINS} logins waiting on pushes`);
  console.log(
    table(
      ['state', 'relay RSS (MiB)'],
      [
        ['idle, after start', idle.toFixed(1)],
        [`${LOGINS} waiting (3 s after the last was held)`, waiting.toFixed(1)],
        ['peak while sending and waiting', peak.toFixed(1)],
        ['2 s after all were answered', after.toFixed(1)],
      ],
    ),
  );
  console.log(
    `\n${table(
      ['state', 'heap used (MiB)', 'heap committed (MiB)', 'external (MiB)', 'open descriptors'],
      [
        ['idle', ...idleSplit],
        [`${LOGINS} waiting`, ...waitingSplit],
      ],
    )}\nper waiting login: ${perLogin(idle, waiting)} KiB RSS, ${perLogin(Number(idleSplit[0]), Number(waitingSplit[0]))} KiB heap used`,
  );
  console.log(
    `\nall ${LOGINS} waiting after ${allWaitingAfter.toFixed(1)} s; accepted ${accepted}/${LOGINS}; ` +
      `answered exactly once ${answeredOnce}; goal < 200 MB: ${peak * 1.048576 < 200 ? 'met' : 'NOT met'}` +
      ` (peak ${(peak * 1.048576).toFixed(0)} MB)`,
  );
} finally {
  await bench.close();
  await edge.close();
}

/** prom-client's default metrics, as the relay exports them: [heap used, heap committed, external, fds]. */
async function memorySplit(managementUrl: string): Promise<string[]> {
  const metric = (name: string) => scrapeMetric(managementUrl, `duo_relay_${name}`);
  const mib = (bytes: number | undefined) => (bytes === undefined ? '?' : (bytes / 2 ** 20).toFixed(1));
  return [
    mib(await metric('nodejs_heap_size_used_bytes')),
    mib(await metric('nodejs_heap_size_total_bytes')),
    mib(await metric('nodejs_external_memory_bytes')),
    String(await metric('process_open_fds')),
  ];
}

function perLogin(beforeMiB: number, afterMiB: number): string {
  return (((afterMiB - beforeMiB) * 1024) / LOGINS).toFixed(1);
}
