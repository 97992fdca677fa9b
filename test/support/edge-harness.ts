import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { unstable_startWorker } from 'wrangler';
import type { EdgeSecretsAndVars } from './edge-bindings.ts';
import { freeTcpPort } from './wait.ts';

/**
 * The real worker, for Node-side end-to-end tests, benchmarks and `npm start`: wrangler's dev
 * runtime (workerd through Miniflare) with local D1 (migrations applied) and the Durable Object,
 * listening on loopback.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const CONFIG = join(ROOT, 'wrangler.toml');
const WRANGLER_BIN = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
const D1_DATABASE = 'duo-edge-audit';

export interface StartEdgeOptions {
  /** Default: a free loopback port (never wrangler's own default, 8787, which `npm start` uses). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  bindings: EdgeSecretsAndVars;
  /** Local D1/DO state directory. Default: a temp dir removed by stop(). */
  persistDir?: string;
  /** Worker log level passed to wrangler; default `warn` so tests stay quiet. */
  logLevel?: 'debug' | 'info' | 'log' | 'warn' | 'error' | 'none';
}

export interface RunningEdge {
  /** e.g. http://127.0.0.1:8787 (no trailing slash). */
  url: string;
  stop(): Promise<void>;
}

export async function startEdge(options: StartEdgeOptions): Promise<RunningEdge> {
  const persist = options.persistDir ?? (await mkdtemp(join(tmpdir(), 'duo-edge-')));
  const ownsPersist = options.persistDir === undefined;
  // A loopback stack must not reach out to the Internet: Miniflare would fetch the Request.cf
  // template from workers.cloudflare.com at each start.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
  try {
    await applyMigrations(persist);
    const { DUO_API_BASE_URL, ...secrets } = options.bindings;
    const worker = await unstable_startWorker({
      config: CONFIG,
      bindings: {
        DUO_API_BASE_URL: { type: 'plain_text', value: DUO_API_BASE_URL },
        ...Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, { type: 'secret_text', value: v }])),
      },
      dev: {
        server: {
          hostname: options.host ?? '127.0.0.1',
          port: options.port ?? (await freeTcpPort()),
        },
        inspector: false,
        persist,
        watch: false,
        logLevel: options.logLevel ?? 'warn',
      },
    } as Parameters<typeof unstable_startWorker>[0]);
    await worker.ready;
    const url = (await worker.url).toString().replace(/\/+$/, '');
    return {
      url,
      async stop() {
        await worker.dispose();
        if (ownsPersist) await rm(persist, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (ownsPersist) await rm(persist, { recursive: true, force: true });
    throw e;
  }
}

/** The same command an operator runs, against the persisted local D1 the worker will open. */
async function applyMigrations(persist: string): Promise<void> {
  await promisify(execFile)(
    process.execPath,
    [WRANGLER_BIN, 'd1', 'migrations', 'apply', D1_DATABASE, '--local', '--persist-to', persist, '--config', CONFIG],
    { cwd: ROOT, env: { ...process.env, CI: '1', WRANGLER_SEND_METRICS: 'false' }, timeout: 60_000 },
  );
}
