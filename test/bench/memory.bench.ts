/**
 * Relay memory idle and with logins waiting on pushes (goals: idle RSS < 64 MiB; RSS < 200 MB at
 * 10,000 waiting, so a small VM holds a site's morning rush).
 *
 *   npx node test/bench/memory.bench.ts [--logins 10000] [--rate 150]
 *
 * The relay measured is the JavaScript admins install: the release bundle (scripts/release/bundle.ts,
 * the npm package's bin and the script inside the single executables), run by this Node with the
 * executables' V8 settings (RELAY_NODE_FLAGS) and the malloc settings the systemd unit and the
 * container set (RELAY_ENV); the idle figure without RELAY_ENV (an npm install that does not set
 * them) is printed beside it. The single executables themselves need
 * `npm run release` (Node runtimes fetched from npm) and are measured by bench:release; they add
 * their own runtime's mapped pages (≈ 15–18 MiB of file-backed RSS on this machine). The idle figure
 * of `duo-relay start` from the checkout's TypeScript sources is printed beside it: Node's type
 * stripping and the per-file module graph cost more, and no install runs that way. Both idle relays
 * have a users-file primary and sit 3 s after /readyz.
 *
 * `duo-relay start` runs as a child process (its RSS from /proc) in front of a stand-in edge that
 * answers preauth at once and holds every /v1/auth (lib/held-edge.ts says why not workerd here); it
 * speaks h2 over TLS on loopback, as the production edge does, so each waiting login is one stream on
 * the relay's HTTP/2 session and the relay's TLS is in these figures.
 * Logins go out at --rate per second (faster, the relay's edge calls fall behind its 10 s preauth
 * timeout on this 2-core box and logins fail over to failmode) with a NAS retransmit after 5 s; once all are waiting, RSS is
 * sampled for 3 s, then every push is "approved" and the answers are counted. The relay's own
 * metrics split RSS into V8 heap (used/committed) and external memory, and count its descriptors.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleRelay } from '../../scripts/release/bundle.ts';
import { RELAY_ENV, RELAY_NODE_FLAGS } from '../../scripts/release/runtimes.ts';
import { ROOT } from '../support/launcher/paths.ts';
import { type RelayLaunch, scrapeMetric, waitFor } from '../support/stack.ts';
import { benchArgs } from './lib/args.ts';
import { type BenchRelaySetup, startBenchRelay } from './lib/bench-relay.ts';
import { startHeldEdge } from './lib/held-edge.ts';
import { rssMiB, sampleRss } from './lib/process-memory.ts';
import { paced, stationIp } from './lib/radius-load.ts';
import { printHeader, sleep, table } from './lib/stats.ts';

const { logins: LOGINS, rate: RATE } = benchArgs({ logins: 10_000, rate: 150 });
const IDLE_GOAL_MIB = 64;
const PEAK_GOAL_MB = 200;

const edge = await startHeldEdge('site-b');
const setup: BenchRelaySetup = {
  preauthTimeoutMs: 10_000,
  authTimeoutMs: 300_000,
  logLevel: (process.env.RELAY_LOG as 'error') ?? 'error',
};
const buildDir = await mkdtemp(join(tmpdir(), 'memory-bench-'));
const bundle = await bundleRelay(ROOT, '0.0.0-memory-bench', join(buildDir, 'duo-relay.cjs'));
const flagsOnly: RelayLaunch = { command: [process.execPath, ...RELAY_NODE_FLAGS, bundle.file], cwd: ROOT };
const installed: RelayLaunch = { ...flagsOnly, env: { ...process.env, ...RELAY_ENV } };

/** RSS and the metrics' split of one relay started and left alone. */
async function idleOf(launch: RelayLaunch | undefined) {
  const idleRelay = await startBenchRelay('memory-bench-idle', edge.url, setup, launch ? { launch } : {});
  try {
    await sleep(3_000);
    return { rss: await rssMiB(idleRelay.relay.pid), split: await memorySplit(idleRelay.relay.managementUrl) };
  } finally {
    await idleRelay.close();
  }
}

const fromSources = await idleOf(undefined);
const asInstalled = await idleOf(installed);
const flagsOnlyIdle = await idleOf(flagsOnly);
const bench = await startBenchRelay('memory-bench', edge.url, setup, {
  lanes: Math.ceil(LOGINS / 256) + 1,
  launch: installed,
});
const { relay, client } = bench;
try {
  await sleep(3_000);
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
  const beforeAnswers = await during.stop();
  const answering = sampleRss(relay.pid, 100);
  edge.release();
  const results = await logins;
  const answered = await answering.stop();
  const peak = Math.max(beforeAnswers.peak, answered.peak);
  if (process.env.BENCH_SAMPLES)
    console.error(
      'samples',
      beforeAnswers.samples.map((x) => x.toFixed(0)).join(' '),
      '|',
      answered.samples.map((x) => x.toFixed(0)).join(' '),
    );
  await sleep(2_000);
  const after = await rssMiB(relay.pid);
  const accepted = results.filter((r) => r.replies[0]?.code === 2).length;
  const answeredOnce = results.filter((r) => r.replies.length === 1).length;

  printHeader(`Relay memory, ${LOGINS} logins waiting on pushes`);
  console.log(
    table(
      ['state', 'relay RSS (MiB)'],
      [
        ['idle, from the checkout sources (type stripping)', fromSources.rss.toFixed(1)],
        ['idle, release bundle with RELAY_NODE_FLAGS and RELAY_ENV (as installed)', asInstalled.rss.toFixed(1)],
        ['idle, release bundle with RELAY_NODE_FLAGS only', flagsOnlyIdle.rss.toFixed(1)],
        ['idle, the relay under test, before the logins', idle.toFixed(1)],
        [`${LOGINS} waiting (3 s after the last was held)`, waiting.toFixed(1)],
        ['peak while sending and waiting', beforeAnswers.peak.toFixed(1)],
        ['peak while the answers arrive', answered.peak.toFixed(1)],
        ['2 s after all were answered', after.toFixed(1)],
      ],
    ),
  );
  console.log(
    `\n${table(
      ['state', 'heap used (MiB)', 'heap committed (MiB)', 'external (MiB)', 'open descriptors'],
      [
        ['idle, from sources', ...fromSources.split],
        ['idle, release bundle', ...asInstalled.split],
        ['idle, release bundle, flags only', ...flagsOnlyIdle.split],
        ['idle, the relay under test', ...idleSplit],
        [`${LOGINS} waiting`, ...waitingSplit],
      ],
    )}\nper waiting login: ${perLogin(idle, waiting)} KiB RSS, ${perLogin(Number(idleSplit[0]), Number(waitingSplit[0]))} KiB heap used`,
  );
  console.log(
    `\nall ${LOGINS} waiting after ${allWaitingAfter.toFixed(1)} s; accepted ${accepted}/${LOGINS}; ` +
      `answered exactly once ${answeredOnce}; goal < ${PEAK_GOAL_MB} MB: ${peak * 1.048576 < PEAK_GOAL_MB ? 'met' : 'NOT met'}` +
      ` (peak ${(peak * 1.048576).toFixed(0)} MB); idle goal < ${IDLE_GOAL_MIB} MiB: ` +
      `${asInstalled.rss < IDLE_GOAL_MIB ? 'met' : 'NOT met'} (idle ${asInstalled.rss.toFixed(0)} MiB, release bundle)`,
  );
} finally {
  await bench.close();
  await edge.close();
  await rm(buildDir, { recursive: true, force: true });
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
