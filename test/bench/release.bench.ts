/**
 * The shipped relay: size, start time to the first Status-Server answer, idle RSS.
 *
 *   npm run release && npm run bench:release [-- --runs 5]
 *
 * Each variant starts `duo-relay start` on a fresh config in a temporary folder (users file, edge
 * unreachable, management port on) and sends a Status-Server every 5 ms from the moment of spawn;
 * the first answer ends the start time. Idle RSS is read from /proc 3 s later. Variants: the SEA
 * binary from dist/ (empty PATH), the npm bundle on this Node, and the TypeScript sources.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code } from '../../local-relay/src/radius/index.ts';
import { BUNDLE, linuxBinary, ROOT } from '../../scripts/release/build.ts';
import type { ChildEnv } from '../support/process.ts';
import { buildRequest, openUdpPeer } from '../support/radclient.ts';
import { DUO_RELAY_BIN, freeTcpPort, freeUdpPort, STACK_RADIUS_SECRET, writeRelayConfig } from '../support/stack.ts';
import { benchArgs } from './lib/args.ts';
import { rssMiB } from './lib/process-memory.ts';
import { ms, printHeader, sleep, summarize, table } from './lib/stats.ts';

const { runs: RUNS } = benchArgs({ runs: 5 });
const dist = join(ROOT, 'dist');

const variants: Array<{
  name: string;
  file?: string;
  command: (config: string) => [string, string[]];
  env?: ChildEnv;
}> = [
  {
    name: `SEA binary (${linuxBinary('x64')})`,
    file: join(dist, linuxBinary('x64')),
    command: (config) => [join(dist, linuxBinary('x64')), ['start', '--config', config]],
    env: { PATH: '' },
  },
  {
    name: `npm bundle on Node ${process.version} (${BUNDLE})`,
    file: join(dist, BUNDLE),
    command: (config) => [process.execPath, [join(dist, BUNDLE), 'start', '--config', config]],
  },
  {
    name: 'TypeScript sources (type stripping)',
    command: (config) => [process.execPath, [DUO_RELAY_BIN, 'start', '--config', config]],
  },
];

async function startOnce(variant: (typeof variants)[number]): Promise<{ startMs: number; rss: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'release-bench-'));
  const radiusPort = await freeUdpPort();
  const config = await writeRelayConfig(dir, {
    site: 'site-a',
    failmode: 'safe',
    edgeUrls: [`http://127.0.0.1:${await freeTcpPort()}`],
    radiusPort,
    managementPort: await freeTcpPort(),
    preauthTimeoutMs: 2000,
    authTimeoutMs: 2000,
  });
  const peer = await openUdpPeer();
  const [cmd, args] = variant.command(config);
  const started = performance.now();
  const child = spawn(cmd, args, { cwd: dir, env: variant.env as NodeJS.ProcessEnv | undefined, stdio: 'ignore' });
  try {
    let identifier = 0;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${variant.name} exited with ${child.exitCode}`);
      const { bytes } = buildRequest({
        secret: STACK_RADIUS_SECRET,
        code: Code.StatusServer,
        identifier: identifier++ % 256,
      });
      peer.send(bytes, radiusPort);
      if (await peer.next(5)) break;
    }
    const startMs = performance.now() - started;
    await sleep(3_000);
    return { startMs, rss: await rssMiB(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await peer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

printHeader('Shipped relay: size, start, idle memory', `${RUNS} starts per variant, edge unreachable.`);
const rows: Array<Array<string | number>> = [];
for (const variant of variants) {
  const results = [];
  for (let i = 0; i < RUNS; i++) results.push(await startOnce(variant));
  const start = summarize(results.map((r) => r.startMs));
  const rss = summarize(results.map((r) => r.rss));
  const size = variant.file === undefined ? undefined : (await stat(variant.file)).size;
  rows.push([
    variant.name,
    size === undefined
      ? '–'
      : size > 2 ** 20
        ? `${(size / 2 ** 20).toFixed(1)} MiB`
        : `${(size / 1024).toFixed(0)} KiB`,
    `${ms(start.p50)} / ${ms(start.max)} ms`,
    `${rss.p50.toFixed(1)} MiB`,
  ]);
}
console.log(table(['variant', 'file size', 'start to first Status-Server answer, p50 / max', 'idle RSS, p50'], rows));
