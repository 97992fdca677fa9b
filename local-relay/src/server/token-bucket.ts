/**
 * Token buckets by key: `burst` events at once, refilled at `perSecond`. Used to rate-limit
 * Status-Server per client (RFC 5997 §3: a server SHOULD limit the rate at which it answers them).
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #now: () => number;
  // Keys are configured client names, so the map stays small; the bound is only a backstop.
  static readonly MAX_KEYS = 10_000;

  constructor(perSecond: number, burst: number, now: () => number = Date.now) {
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#now = now;
  }

  /** Takes one token for `key`; false when its bucket is empty. */
  take(key: string): boolean {
    const now = this.#now();
    const bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= TokenBuckets.MAX_KEYS) this.#buckets.clear();
      this.#buckets.set(key, { tokens: this.#burst - 1, at: now });
      return this.#burst >= 1;
    }
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }
}
