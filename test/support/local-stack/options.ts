import { resolve } from 'node:path';
import type { LogLevel } from '../../../local-relay/src/log.ts';
import { ROOT } from '../launcher/paths.ts';

/**
 * What `npm start` runs with. The defaults are the ports and demo integration the README lists
 * under "The local stack"; the environment
 * may move the ports and the state directory (the end-to-end test runs the same entry point on free
 * ports), never the demo credentials.
 */
export interface LocalStackOptions {
  host: string;
  emulatorPort: number;
  edgePort: number;
  radiusPort: number;
  /** The relay's management HTTP port (/metrics, /healthz, /readyz). */
  metricsPort: number;
  /** Generated config, keys, users file and the edge's local D1/DO state. */
  stateDir: string;
  /** An external Duo (or emulator) instead of the embedded emulator: `DUO_API_BASE_URL`. */
  duoApiBaseUrl?: string;
  /** Pushes wait for a person on the emulator page instead of the demo users' script. */
  manualPush: boolean;
  relayLogLevel: LogLevel;
}

export const DEFAULT_STATE_DIR = resolve(ROOT, '.duo-edge-local');

export const DEMO = {
  site: 'demo',
  radiusSecret: 'demo-radius-secret',
  integrationName: 'demo',
} as const;

const LOG_LEVELS: ReadonlyArray<LogLevel> = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function optionsFrom(
  env: Readonly<Record<string, string | undefined>>,
  argv: ReadonlyArray<string>,
): LocalStackOptions {
  const port = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port number, got ${raw}`);
    return n;
  };
  const level = env.DUO_EDGE_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(level as LogLevel)) {
    throw new Error(`DUO_EDGE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const unknown = argv.filter((a) => a !== '--manual-push');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]} (the only one is --manual-push)`);
  const base = env.DUO_API_BASE_URL?.trim();
  return {
    host: '127.0.0.1',
    emulatorPort: port('DUO_EDGE_EMULATOR_PORT', 8788),
    edgePort: port('DUO_EDGE_EDGE_PORT', 8787),
    radiusPort: port('DUO_EDGE_RADIUS_PORT', 1812),
    metricsPort: port('DUO_EDGE_METRICS_PORT', 9812),
    stateDir: env.DUO_EDGE_STATE_DIR ? resolve(env.DUO_EDGE_STATE_DIR) : DEFAULT_STATE_DIR,
    ...(base ? { duoApiBaseUrl: base.replace(/\/+$/, '') } : {}),
    manualPush: argv.includes('--manual-push') || env.DUO_EDGE_MANUAL_PUSH === '1',
    relayLogLevel: level as LogLevel,
  };
}
