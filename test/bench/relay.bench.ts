/**
 * RADIUS packet path: the relay's server vs FreeRADIUS 3.2, same load generator, same run.
 *
 *   npx node test/bench/relay.bench.ts [--duration 4] [--concurrency 64] [--sockets 16]
 *                                      [--rounds 2] [--rate 0] [--fr-threads 4]
 *                                      [--scenarios a,b,c] [--relay-cpu-prof DIR] [--json FILE]
 *
 * Scenarios, each alternating relay / FreeRADIUS for `--rounds` rounds:
 *   (a) Status-Server round trips (closed loop at --concurrency),
 *   (b) PAP Access-Requests answered at once (relay: a flow that checks a constant password and
 *       accepts; FreeRADIUS: files + pap), closed loop, and open loop at --rate pps if given,
 *   (c) Access-Requests with a bad Message-Authenticator sent as fast as the generator can:
 *       no reply, so the server's own counters give the packets it processed per second.
 * Every request carries Message-Authenticator (first) and a fresh CSPRNG Request Authenticator,
 * so neither server can answer from its duplicate cache.
 *
 * The relay runs in a child process (this file with --serve-relay) so that the generator and
 * the server do not share one event loop. All three processes share this machine's cores.
 */
import { execFileSync, fork } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { LoginFlow } from '../../local-relay/src/flow/types.ts';
import { Attr, Code, textAttribute } from '../../local-relay/src/radius/index.ts';
import { createRadiusServer } from '../../local-relay/src/server/index.ts';
import { RELAY_NODE_FLAGS } from '../../scripts/release/runtimes.ts';
import { startFreeRadius } from '../support/freeradius.ts';
import { buildRequest } from '../support/radclient.ts';

const SECRET = 'bench-shared-secret-0123456789abcdef';
const USER = 'bench';
const PASSWORD = 'bench-pass';
const WARMUP_MS = 500;
const LOSS_TIMEOUT_MS = 1000;

// ---------------------------------------------------------------- relay child process

async function serveRelay(): Promise<void> {
  const flow: LoginFlow = {
    handle: async (req) =>
      req.password === PASSWORD ? { code: 'accept' } : { code: 'reject', replyMessage: 'Primary credentials rejected' },
  };
  const server = createRadiusServer({
    listeners: [
      {
        host: '127.0.0.1',
        port: 0,
        clients: [
          {
            name: 'bench',
            cidr: '127.0.0.1',
            secret: new TextEncoder().encode(SECRET),
            requireMessageAuthenticator: true,
            limitProxyState: true,
            flow,
          },
        ],
      },
    ],
    logger: pino({ level: 'error' }),
  });
  const [bound] = await server.start();
  process.send!({ type: 'ready', port: bound!.port });
  process.on('message', (m) => {
    if (m === 'counters') process.send!({ type: 'counters', counters: server.counters() });
    if (m === 'stop') void server.stop(100).then(() => process.exit(0));
  });
}

// ---------------------------------------------------------------- generator

type Kind = 'status' | 'access' | 'bad_ma';

interface Sample {
  completed: number;
  lost: number;
  skipped: number;
  durationMs: number;
  latencies: Float64Array;
  /** CPU time the server process (all threads) and this generator spent in the measured window. */
  serverCpuMs: number;
  generatorCpuMs: number;
}

/**
 * CPU time of a process, all threads, from /proc (Linux; NaN elsewhere). The machine is shared,
 * so wall-clock rates move with whatever else runs; CPU per packet is the steadier capacity
 * figure, measured the same way for both servers.
 */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS = 100;

/** Starts a measurement window; the returned function closes it. */
function cpuWindow(pid: number): () => { serverCpuMs: number; generatorCpuMs: number } {
  const server = processCpuMs(pid);
  const generator = process.cpuUsage();
  return () => {
    const g = process.cpuUsage(generator);
    return { serverCpuMs: processCpuMs(pid) - server, generatorCpuMs: (g.user + g.system) / 1000 };
  };
}

function buildPacket(kind: Kind, identifier: number): Uint8Array {
  if (kind === 'status') return buildRequest({ secret: SECRET, identifier, code: Code.StatusServer }).bytes;
  const req = buildRequest({
    secret: SECRET,
    identifier,
    username: USER,
    password: PASSWORD,
    attributes: [textAttribute(Attr.NasIdentifier, 'bench-nas')],
  });
  if (kind === 'bad_ma') req.bytes[22] = req.bytes[22]! ^ 0xff; // MA is first: value at 22..37
  return req.bytes;
}

/**
 * Requests are signed ahead of time so the generator spends its CPU on sockets, not on MD5: per
 * Identifier a pool of POOL packets, each with its own CSPRNG authenticator. A lane (own source
 * port) walks its pools from its own offset, so no (port, Identifier, authenticator) repeats
 * within a run and neither server can answer from its duplicate cache.
 */
const POOL = 256;
const pools = new Map<Kind, Uint8Array[][]>();

function pool(kind: Kind): Uint8Array[][] {
  let p = pools.get(kind);
  if (!p) {
    p = Array.from({ length: 256 }, (_, id) => Array.from({ length: POOL }, () => buildPacket(kind, id)));
    pools.set(kind, p);
  }
  return p;
}

interface Lane {
  socket: Socket;
  sentAt: Float64Array; // by Identifier; 0 = free
  uses: Uint16Array; // by Identifier: index into that Identifier's packet pool
  nextId: number;
  outstanding: number;
}

async function openLanes(n: number, onReply: (lane: Lane, msg: Buffer) => void): Promise<Lane[]> {
  return Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<Lane>((resolve) => {
          const socket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
          const uses = new Uint16Array(256).fill((i * 37) % POOL);
          const lane: Lane = { socket, sentAt: new Float64Array(256), uses, nextId: 0, outstanding: 0 };
          socket.on('message', (msg) => onReply(lane, msg));
          socket.bind(0, '127.0.0.1', () => resolve(lane));
        }),
    ),
  );
}

function closeLanes(lanes: Lane[]): Promise<void> {
  return Promise.all(lanes.map((l) => new Promise<void>((r) => l.socket.close(() => r())))).then(() => undefined);
}

function freeId(lane: Lane): number {
  for (let i = 0; i < 256; i++) {
    const id = (lane.nextId + i) & 0xff;
    if (lane.sentAt[id] === 0) {
      lane.nextId = (id + 1) & 0xff;
      return id;
    }
  }
  return -1;
}

/**
 * Closed loop (rate 0): `concurrency` requests outstanding, each reply triggers the next.
 * Open loop (rate > 0): requests leave on a clock whatever the replies do.
 */
async function drive(
  target: Pick<Target, 'port' | 'pid'>,
  kind: 'status' | 'access',
  opts: Options,
  rate: number,
): Promise<Sample> {
  const { port } = target;
  const latencies = new Float64Array(8_000_000);
  let count = 0;
  let completed = 0;
  let lost = 0;
  let skipped = 0;
  let running = true;
  let measuring = false;
  const perLane = Math.max(1, Math.ceil(opts.concurrency / opts.sockets));
  const packets = pool(kind);

  const send = (lane: Lane): boolean => {
    const id = freeId(lane);
    if (id < 0) return false;
    lane.sentAt[id] = performance.now();
    lane.outstanding++;
    const n = lane.uses[id]!;
    lane.uses[id] = (n + 1) % POOL;
    lane.socket.send(packets[id]![n]!, port, '127.0.0.1');
    return true;
  };
  const lanes = await openLanes(opts.sockets, (lane, msg) => {
    const id = msg[1]!;
    const sentAt = lane.sentAt[id]!;
    if (sentAt === 0) return;
    lane.sentAt[id] = 0;
    lane.outstanding--;
    if (measuring && (msg[0] === Code.AccessAccept || msg[0] === Code.AccessReject)) {
      completed++;
      if (count < latencies.length) latencies[count++] = performance.now() - sentAt;
    }
    if (running && rate === 0) send(lane);
  });
  // UDP may drop under overload: a request unanswered for a second is counted lost and replaced.
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const lane of lanes) {
      for (let id = 0; id < 256; id++) {
        const t = lane.sentAt[id]!;
        if (t !== 0 && now - t > LOSS_TIMEOUT_MS) {
          lane.sentAt[id] = 0;
          lane.outstanding--;
          if (measuring) lost++;
          if (running && rate === 0) send(lane);
        }
      }
    }
  }, 100);

  let ticker: NodeJS.Timeout | undefined;
  if (rate === 0) {
    for (const lane of lanes) for (let i = 0; i < perLane; i++) send(lane);
  } else {
    const started = performance.now();
    let sent = 0;
    let next = 0;
    ticker = setInterval(() => {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      while (sent < due) {
        sent++;
        const lane = lanes[next++ % lanes.length]!;
        if (!send(lane) && measuring) skipped++;
      }
    }, 1);
  }

  await sleep(WARMUP_MS);
  measuring = true;
  const t0 = performance.now();
  const cpu = cpuWindow(target.pid);
  await sleep(opts.durationMs);
  measuring = false;
  const durationMs = performance.now() - t0;
  const cpuUsed = cpu();
  running = false;
  if (ticker) clearInterval(ticker);
  await sleep(200);
  clearInterval(sweeper);
  await closeLanes(lanes);
  return { completed, lost, skipped, durationMs, latencies: latencies.slice(0, count), ...cpuUsed };
}

/** Scenario (c): blast bad-MA packets; the server's counter says how many it got through. */
async function blast(target: Target, opts: Options): Promise<Sample> {
  const { port } = target;
  const processed = () => target.badMaProcessed();
  const flood = pool('bad_ma').flat();
  const lanes = await openLanes(opts.sockets, () => {});
  let inSocket = 0;
  let sent = 0;
  let running = true;
  // Bounded in-flight sends keep the generator from buffering unboundedly in libuv.
  const pump = () => {
    if (!running) return;
    while (inSocket < 512) {
      const lane = lanes[sent % lanes.length]!;
      inSocket++;
      lane.socket.send(flood[sent % flood.length]!, port, '127.0.0.1', () => {
        inSocket--;
      });
      sent++;
    }
    setImmediate(pump);
  };
  pump();
  await sleep(WARMUP_MS);
  const before = await processed();
  const sentBefore = sent;
  const t0 = performance.now();
  const cpu = cpuWindow(target.pid);
  await sleep(opts.durationMs);
  const cpuUsed = cpu();
  const after = await processed();
  const durationMs = performance.now() - t0;
  const offered = sent - sentBefore;
  running = false;
  await sleep(200);
  await closeLanes(lanes);
  return {
    completed: after - before,
    lost: 0,
    skipped: offered,
    durationMs,
    latencies: new Float64Array(),
    ...cpuUsed,
  };
}

// ---------------------------------------------------------------- orchestration

interface Options {
  durationMs: number;
  concurrency: number;
  sockets: number;
  rounds: number;
  rate: number;
  frThreads: number;
}

interface Target {
  name: 'relay' | 'freeradius';
  port: number;
  pid: number;
  /** Packets dropped for a bad Message-Authenticator, by the server's own count. */
  badMaProcessed(): Promise<number>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '4' },
      concurrency: { type: 'string', default: '64' },
      sockets: { type: 'string', default: '16' },
      rounds: { type: 'string', default: '2' },
      rate: { type: 'string', default: '0' },
      'fr-threads': { type: 'string', default: '4' },
      scenarios: { type: 'string', default: 'a,b,c' },
      // Writes the relay child's V8 CPU profile there on exit, to find the packet path's hot spots.
      'relay-cpu-prof': { type: 'string' },
      // Also writes the summary rows there as JSON (for repeated runs and docs).
      json: { type: 'string' },
    },
  });
  const opts: Options = {
    durationMs: Number(values.duration) * 1000,
    concurrency: Number(values.concurrency),
    sockets: Number(values.sockets),
    rounds: Number(values.rounds),
    rate: Number(values.rate),
    frThreads: Number(values['fr-threads']),
  };

  const profDir = values['relay-cpu-prof'];
  const relayChild = fork(import.meta.filename, ['--serve-relay'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [
      ...process.execArgv,
      ...RELAY_NODE_FLAGS,
      ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
    ],
  });
  const relayPort = await new Promise<number>((resolve, reject) => {
    relayChild.once('message', (m: { type: string; port: number }) => resolve(m.port));
    relayChild.once('exit', (code) => reject(new Error(`relay child exited ${code}`)));
  });
  const relayCounters = () =>
    new Promise<Record<string, number>>((resolve) => {
      const onMessage = (m: { type: string; counters: Record<string, number> }) => {
        if (m.type !== 'counters') return;
        relayChild.off('message', onMessage);
        resolve(m.counters);
      };
      relayChild.on('message', onMessage);
      relayChild.send('counters');
    });
  const fr = await startFreeRadius({
    users: [{ name: USER, password: PASSWORD }],
    clients: [{ ip: '127.0.0.1', secret: SECRET }],
    threads: opts.frThreads,
  });

  const targets: Target[] = [
    {
      name: 'relay',
      port: relayPort,
      pid: relayChild.pid!,
      badMaProcessed: async () => (await relayCounters()).bad_message_authenticator ?? 0,
    },
    {
      name: 'freeradius',
      port: fr.port,
      pid: fr.pid,
      badMaProcessed: async () => (await fr.stats())['FreeRADIUS-Total-Auth-Invalid-Requests'] ?? 0,
    },
  ];

  printMachine(opts);
  const rows: Row[] = [];
  try {
    const wanted = new Set(values.scenarios.split(','));
    const scenarios: Array<{ label: string; run: (t: Target) => Promise<Sample> }> = [
      { label: '(a) Status-Server, closed loop', run: (t) => drive(t, 'status', opts, 0) },
      { label: '(b) PAP Access-Request, closed loop', run: (t) => drive(t, 'access', opts, 0) },
      ...(opts.rate > 0
        ? [
            {
              label: `(b) PAP Access-Request, open loop ${opts.rate}/s`,
              run: (t: Target) => drive(t, 'access', opts, opts.rate),
            },
          ]
        : []),
      { label: '(c) bad Message-Authenticator, flood', run: (t) => blast(t, opts) },
    ];
    for (const scenario of scenarios) {
      if (!wanted.has(scenario.label.charAt(1))) continue;
      const samples: Record<Target['name'], Sample[]> = { relay: [], freeradius: [] };
      for (let round = 0; round < opts.rounds; round++) {
        // Alternate who goes first so neither always runs on a warmer (or hotter) machine.
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) {
          samples[t.name].push(await scenario.run(t));
          await sleep(300);
        }
      }
      rows.push(summarise(scenario.label, samples.relay, samples.freeradius));
      printRow(rows.at(-1)!);
    }
    printTable(rows);
    if (values.json) writeFileSync(values.json, `${JSON.stringify({ opts, rows }, null, 2)}\n`);
    console.log('\nrelay counters:', JSON.stringify(await relayCounters()));
  } finally {
    if (relayChild.connected) relayChild.send('stop');
    await fr.stop();
    // Let the child exit on its own (and write its CPU profile) before this process ends.
    await new Promise<void>((resolve) => {
      if (relayChild.exitCode !== null) return resolve();
      const timer = setTimeout(resolve, 5_000);
      relayChild.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

interface Stats {
  pps: number;
  p50: number;
  p99: number;
  lost: number;
  offered: number;
  /** Server CPU per packet handled, and the cores the server and the generator kept busy. */
  cpuUsPerPacket: number;
  serverCores: number;
  generatorCores: number;
}
interface Row {
  label: string;
  relay: Stats;
  freeradius: Stats;
}

function stats(samples: Sample[]): Stats {
  const completed = samples.reduce((a, s) => a + s.completed, 0);
  const seconds = samples.reduce((a, s) => a + s.durationMs, 0) / 1000;
  const all = Float64Array.from(samples.flatMap((s) => Array.from(s.latencies))).sort();
  const q = (p: number) => (all.length ? all[Math.min(all.length - 1, Math.floor(p * all.length))]! : Number.NaN);
  return {
    pps: completed / seconds,
    p50: q(0.5),
    p99: q(0.99),
    lost: samples.reduce((a, s) => a + s.lost, 0),
    offered: samples.reduce((a, s) => a + s.skipped, 0) / seconds,
    cpuUsPerPacket: (samples.reduce((a, s) => a + s.serverCpuMs, 0) * 1000) / completed,
    serverCores: samples.reduce((a, s) => a + s.serverCpuMs, 0) / 1000 / seconds,
    generatorCores: samples.reduce((a, s) => a + s.generatorCpuMs, 0) / 1000 / seconds,
  };
}

function summarise(label: string, relay: Sample[], freeradius: Sample[]): Row {
  return { label, relay: stats(relay), freeradius: stats(freeradius) };
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function printRow(r: Row): void {
  console.log(
    `${r.label}: relay ${fmt(r.relay.pps)}/s vs FreeRADIUS ${fmt(r.freeradius.pps)}/s (ratio ${fmt(r.relay.pps / r.freeradius.pps, 2)}); ` +
      `server CPU per packet relay ${fmt(r.relay.cpuUsPerPacket, 1)} µs vs FreeRADIUS ${fmt(r.freeradius.cpuUsPerPacket, 1)} µs`,
  );
}

function printTable(rows: Row[]): void {
  console.log(
    '\n| scenario | server | packets/s | p50 ms | p99 ms | lost | server CPU µs/packet | server cores | generator cores | relay/FreeRADIUS packets/s | relay/FreeRADIUS packets per CPU-s |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const ratio = fmt(r.relay.pps / r.freeradius.pps, 2);
    const cpuRatio = fmt(r.freeradius.cpuUsPerPacket / r.relay.cpuUsPerPacket, 2);
    const flood = r.label.startsWith('(c)');
    for (const [name, s] of [
      ['relay', r.relay],
      ['FreeRADIUS', r.freeradius],
    ] as const) {
      const extra = flood ? ` (offered ${fmt(s.offered)}/s)` : '';
      console.log(
        `| ${r.label} | ${name} | ${fmt(s.pps)}${extra} | ${fmt(s.p50, 3)} | ${fmt(s.p99, 3)} | ${flood ? '-' : s.lost} | ` +
          `${fmt(s.cpuUsPerPacket, 1)} | ${fmt(s.serverCores, 2)} | ${fmt(s.generatorCores, 2)} | ` +
          `${name === 'relay' ? ratio : ''} | ${name === 'relay' ? cpuRatio : ''} |`,
      );
    }
  }
}

function printMachine(opts: Options): void {
  const version = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0]!.trim();
    } catch {
      return 'unknown';
    }
  };
  console.log('# RADIUS packet path: relay vs FreeRADIUS');
  console.log(`machine: ${availableParallelism()} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}, Linux ${release()}`);
  console.log(`node ${process.version}; ${version('freeradius', ['-v'])}`);
  console.log(
    `load: ${opts.sockets} sockets, concurrency ${opts.concurrency}, ${opts.durationMs / 1000} s per run after ${WARMUP_MS} ms warm-up, ` +
      `${opts.rounds} rounds alternating; FreeRADIUS ${opts.frThreads} threads, files+pap; relay in a child process; ` +
      'Message-Authenticator on every request\n',
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// Last, so every module-level constant above is initialised before either entry point runs.
if (process.argv.includes('--serve-relay')) await serveRelay();
else await main();
