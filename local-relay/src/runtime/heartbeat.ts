import { type BreakerState, heartbeatRequestSchema } from '@duo-edge/contract/heartbeat';
import type { Logger } from 'pino';
import type { EdgeClient } from '../edge/client.ts';
import { RELAY_VERSION } from './version.ts';

/**
 * Signed `POST /v1/heartbeat` every `intervalMs` (version, uptime, breaker state, counters), so
 * the edge's admin API can flag a silent relay. A failed heartbeat is logged and counted in the
 * next one; it never affects logins.
 */
export function startHeartbeat(opts: {
  edge: Pick<EdgeClient, 'heartbeat'>;
  intervalMs: number;
  breakerState: () => BreakerState;
  counters: () => Record<string, number>;
  logger: Logger;
  startedAt?: number;
}): { beat(): Promise<boolean>; stop(): void } {
  const startedAt = opts.startedAt ?? Date.now();
  let failures = 0;

  async function beat(): Promise<boolean> {
    const body = heartbeatRequestSchema.parse({
      version: RELAY_VERSION,
      uptime_s: Math.floor((Date.now() - startedAt) / 1000),
      breaker_state: opts.breakerState(),
      counters: wireCounters({ ...opts.counters(), heartbeat_failures: failures }),
    });
    const r = await opts.edge.heartbeat(body);
    if (r.kind === 'ok') return true;
    failures++;
    opts.logger.debug({ failures }, 'heartbeat not delivered');
    return false;
  }

  const timer = setInterval(() => void beat(), opts.intervalMs);
  timer.unref();
  return { beat, stop: () => clearInterval(timer) };
}

const MAX_COUNTERS = 64;

/** The wire admits at most 64 counters named `[a-z0-9_]{1,64}` with finite non-negative values. */
function wireCounters(all: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(all)) {
    if (Object.keys(out).length >= MAX_COUNTERS) break;
    if (/^[a-z0-9_]{1,64}$/.test(k) && Number.isFinite(v) && v >= 0) out[k] = v;
  }
  return out;
}
