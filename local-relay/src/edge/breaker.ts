import type { BreakerState } from '@duo-edge/contract/heartbeat';

export interface BreakerOptions {
  threshold: number;
  now?: () => number;
  onChange?: (state: BreakerState, at: number) => void;
}

/**
 * Circuit breaker for the edge. Closed: calls go out. After `threshold` consecutive transport
 * failures it opens: calls fail at once, so a NAS gets the failmode answer instead of waiting out a
 * dead network on every login. Only the health probe (edge/health-probe.ts) closes it again: the
 * probe is what learns that the edge is back, no login is spent finding out.
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #now: () => number;
  readonly #onChange: ((state: BreakerState, at: number) => void) | undefined;
  #state: BreakerState = 'closed';
  #consecutiveFailures = 0;

  constructor(opts: BreakerOptions) {
    if (!Number.isInteger(opts.threshold) || opts.threshold < 1) throw new Error('breaker threshold must be >= 1');
    this.#threshold = opts.threshold;
    this.#now = opts.now ?? Date.now;
    this.#onChange = opts.onChange;
  }

  get state(): BreakerState {
    return this.#state;
  }

  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  /** May a call go to the network? */
  allows(): boolean {
    return this.#state === 'closed';
  }

  /** The edge answered (any HTTP status): the network path works. */
  recordSuccess(): void {
    this.#consecutiveFailures = 0;
    this.#set('closed');
  }

  recordTransportFailure(): void {
    this.#consecutiveFailures++;
    if (this.#consecutiveFailures >= this.#threshold) this.#set('open');
  }

  #set(state: BreakerState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#onChange?.(state, this.#now());
  }
}
