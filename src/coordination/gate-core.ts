import { AttemptLog } from './attempt-log.ts';
import type { AttemptKind, GateLimits } from './limits.ts';

export interface GateCall<T> {
  /** Calls with the same key while one is in flight join it (see keys.ts). */
  key: string;
  /** `push` counts before the call; `passcode_failure` counts after a failed call. */
  kind: AttemptKind;
  limits: GateLimits;
  now: number;
  /** For passcode calls: did this result spend a guess? */
  failed: (value: T) => boolean;
}

export type GateVerdict<T> = { kind: 'ran'; value: T; joined: boolean } | { kind: 'limited'; attempt: AttemptKind };

/**
 * Single-flight plus limits for one (site, user), independent of Duo so it can be tested with any
 * call. The check, the count and the in-flight registration happen without an await in between:
 * a Durable Object interleaves requests only at awaits, so no second call can slip past the limit
 * or miss the in-flight entry.
 */
export class GateCore<T> {
  readonly #log: AttemptLog;
  readonly #inFlight = new Map<string, Promise<T>>();

  constructor(sql: SqlStorage) {
    this.#log = new AttemptLog(sql);
  }

  async run(call: GateCall<T>, fn: () => Promise<T>): Promise<GateVerdict<T>> {
    const joined = this.#inFlight.get(call.key);
    if (joined) return { kind: 'ran', value: await joined, joined: true };

    const windowStart = call.now - call.limits.window_seconds * 1000;
    this.#log.prune(windowStart);
    const max = call.kind === 'push' ? call.limits.push_per_window : call.limits.passcode_failures_per_window;
    if (this.#log.count(call.kind, windowStart) >= max) return { kind: 'limited', attempt: call.kind };
    if (call.kind === 'push') this.#log.add('push', call.now);

    const flight = fn();
    this.#inFlight.set(call.key, flight);
    try {
      const value = await flight;
      if (call.kind === 'passcode_failure' && call.failed(value)) this.#log.add('passcode_failure', call.now);
      return { kind: 'ran', value, joined: false };
    } finally {
      this.#inFlight.delete(call.key);
    }
  }

  /** In-flight calls right now (for tests and diagnostics). */
  get inFlight(): number {
    return this.#inFlight.size;
  }
}
