/**
 * Soak (issue 7): steady load through the whole path, sampling the relay every 10 s.
 *
 *   npx node test/bench/soak.ts [--seconds 600] [--rate 20]
 *
 * NAS → `duo-relay start` (child) → edge (workerd) → emulator (pushes approved after 300 ms).
 * Open loop at --rate logins/s, alternating alice (push) and carol (Duo bypass), each login from a
 * fresh Calling-Station-Id. Every 10 s: relay RSS (/proc), event-loop delay p99 from the relay's
 * /metrics (prom-client's monitorEventLoopDelay, reset at each scrape), logins answered, and their latency.
 */
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  freeTcpPort,
  freeUdpPort,
  STACK_RADIUS_SECRET,
  scrapeMetric,
  spawnRelay,
  stackDir,
  startDuoAndEdge,
  writeRelayConfig,
} from '../support/stack.ts';
import { rssMiB } from './lib/process-memory.ts';
import { type LoginResult, RadiusLoginClient, stationIp } from './lib/radius-load.ts';
import { machine, ms, sleep, summarize, table } from './lib/stats.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '600' }, rate: { type: 'string', default: '20' } },
});
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
const SAMPLE_MS = 10_000;

const stack = await startDuoAndEdge({ emulator: { pushDelayMs: 300 }, deadlines: 'production' });
const dir = await stackDir('soak');
const radiusPort = await freeUdpPort();
const managementPort = await freeTcpPort();
const file = await writeRelayConfig(dir, {
  site: 'site-b',
  failmode: 'secure',
  edgeUrls: [stack.edgeUrl],
  radiusPort,
  managementPort,
  preauthTimeoutMs: 10_000,
  authTimeoutMs: 70_000,
  logLevel: 'error',
});
const relay = await spawnRelay(file, managementPort);
const client = await RadiusLoginClient.open({ port: radiusPort, secret: STACK_RADIUS_SECRET, lanes: 4 });

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
  console.log(`\nSoak: ${SECONDS} s at ${RATE} logins/s (alice push / carol bypass) — ${machine()}\n`);
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
  await client.close();
  await relay.stop();
  await stack.close();
  await rm(dir, { recursive: true, force: true });
}
