import type { Logger } from 'pino';
import type { CircuitBreaker } from './breaker.ts';
import type { EdgeClient } from './client.ts';

/**
 * While the breaker is open, asks GET /v1/health every `intervalMs` and closes the breaker as soon
 * as the edge answers, so the first login after an outage already goes to the edge.
 */
export function startHealthProbe(opts: {
  breaker: CircuitBreaker;
  client: Pick<EdgeClient, 'health'>;
  intervalMs: number;
  logger: Logger;
}): { stop(): void } {
  let running = false;
  async function probe(): Promise<void> {
    if (running || opts.breaker.allows()) return;
    running = true;
    try {
      const r = await opts.client.health();
      if (r.kind === 'ok') {
        opts.breaker.recordSuccess();
        opts.logger.info('edge reachable again; circuit breaker closed');
      }
    } finally {
      running = false;
    }
  }
  const timer = setInterval(() => void probe(), opts.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
