/**
 * At most one event per key per interval: discards are logged (deprecating-RADIUS draft) without
 * letting a flood of forged packets flood the log too.
 */
export class RateLimiter {
  readonly #last = new Map<string, number>();
  readonly #intervalMs: number;
  readonly #now: () => number;
  static readonly MAX_KEYS = 10_000;

  constructor(intervalMs: number, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  allow(key: string): boolean {
    const now = this.#now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.#intervalMs) return false;
    // Spoofed sources could make up endless keys: forgetting them all only costs a few log lines.
    if (this.#last.size >= RateLimiter.MAX_KEYS) this.#last.clear();
    this.#last.set(key, now);
    return true;
  }
}
