import { timingSafeEqual } from 'node:crypto';

/**
 * RFC 5080 §2.2.2 duplicate detection. Key: (source IP, source port, receiving socket, Identifier);
 * the Request Authenticator tells a retransmit from a new request. Pending requests live apart
 * from answered ones so that the bound on cached replies can never evict a login that is still
 * waiting on a push (which would let a retransmit start a second one).
 */
export type DedupVerdict = { kind: 'new' } | { kind: 'in_flight' } | { kind: 'replay'; reply: Uint8Array };

interface Answered {
  authenticator: Uint8Array;
  reply: Uint8Array;
  expiresAt: number;
}

export class DedupCache {
  readonly #pending = new Map<string, Uint8Array>();
  // Insertion order == answer order == expiry order (one TTL), so the oldest sits first.
  readonly #answered = new Map<string, Answered>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(ttlMs: number, maxEntries: number, now: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  static key(sourceIp: string, sourcePort: number, socketId: string, identifier: number): string {
    return `${sourceIp}|${sourcePort}|${socketId}|${identifier}`;
  }

  /** Classifies a request; a `new` verdict marks it pending (call `complete` or `abandon` later). */
  begin(key: string, authenticator: Uint8Array): DedupVerdict {
    this.#sweep();
    const pending = this.#pending.get(key);
    if (pending && sameAuthenticator(pending, authenticator)) return { kind: 'in_flight' };
    const answered = this.#answered.get(key);
    if (answered && answered.expiresAt > this.#now() && sameAuthenticator(answered.authenticator, authenticator)) {
      return { kind: 'replay', reply: answered.reply };
    }
    // A new authenticator under the same key replaces whatever was there.
    this.#answered.delete(key);
    this.#pending.set(key, authenticator);
    return { kind: 'new' };
  }

  /** Caches the reply, unless a newer request under the same key superseded this one. */
  complete(key: string, authenticator: Uint8Array, reply: Uint8Array): void {
    const pending = this.#pending.get(key);
    if (!pending || !sameAuthenticator(pending, authenticator)) return;
    this.#pending.delete(key);
    this.#answered.set(key, { authenticator, reply, expiresAt: this.#now() + this.#ttlMs });
    while (this.#answered.size > this.#maxEntries) {
      const oldest = this.#answered.keys().next();
      if (oldest.done) break;
      this.#answered.delete(oldest.value);
    }
  }

  /** The request produced no reply: forget it so a retransmit is processed afresh. */
  abandon(key: string, authenticator: Uint8Array): void {
    const pending = this.#pending.get(key);
    if (pending && sameAuthenticator(pending, authenticator)) this.#pending.delete(key);
  }

  size(): { pending: number; answered: number } {
    return { pending: this.#pending.size, answered: this.#answered.size };
  }

  #sweep(): void {
    const now = this.#now();
    // Iterating a Map from the front skips the holes that deletions leave behind, so the sweep
    // runs at most once a second rather than per packet (expiry is also checked on lookup).
    if (now - this.#lastSweep < 1_000) return;
    this.#lastSweep = now;
    for (const [key, entry] of this.#answered) {
      if (entry.expiresAt > now) break;
      this.#answered.delete(key);
    }
  }
}

function sameAuthenticator(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
