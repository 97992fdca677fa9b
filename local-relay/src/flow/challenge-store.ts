import { randomBytes } from 'node:crypto';
import type { Device } from '@duo-edge/contract/wire';
import type { PrimaryContinuation, RawAttribute } from '../primary/types.ts';

/**
 * Pending Access-Challenges. The State is 32 CSPRNG bytes (unguessable), bound to the NAS address,
 * RADIUS client and User-Name that received it, valid 300 s, usable once. The store is bounded:
 * when full, the oldest challenge is dropped (its user sees `Unknown Challenge` and logs in again).
 */

export type ChallengeKind =
  /** auto mode: the next password is the passcode. */
  | { kind: 'passcode' }
  /** challenge mode: the next password is an option number, a factor name or a passcode. */
  | { kind: 'factor'; prompt: string; factors: Record<string, string>; devices: Device[] }
  /** challenge mode, user not enrolled: any answer ends in a reject. */
  | { kind: 'enroll' }
  /**
   * The upstream RADIUS primary challenged (auto and challenge modes): the next password is the
   * answer, sent upstream with the upstream's State. `round` counts the upstream's challenges so
   * far; `factor` is auto mode's concat suffix, kept for after the primary passes.
   */
  | { kind: 'primary'; continuation: PrimaryContinuation; round: number; factor?: string };

export type ChallengeEntry = ChallengeKind & {
  username: string;
  nasIp: string;
  /** The configured RADIUS client it was sent to. */
  client?: string;
  /** Whether the failmode may fail this login open: primary auth passed (or duo_only acknowledged). */
  failOpenAllowed: boolean;
  attributes?: ReadonlyArray<RawAttribute>;
};

export const STATE_BYTES = 32;
export const CHALLENGE_TTL_MS = 300_000;

export class ChallengeStore {
  readonly #entries = new Map<string, { entry: ChallengeEntry; expires: number }>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(opts: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.#ttlMs = opts.ttlMs ?? CHALLENGE_TTL_MS;
    this.#max = opts.maxEntries ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  issue(entry: ChallengeEntry): Uint8Array {
    const state = new Uint8Array(randomBytes(STATE_BYTES));
    this.#sweep();
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key(state), { entry, expires: this.#now() + this.#ttlMs });
    return state;
  }

  /** Single use: the State is consumed even when the caller does not match. */
  take(state: Uint8Array, who: { username: string; nasIp: string; client?: string }): ChallengeEntry | undefined {
    const k = key(state);
    const found = this.#entries.get(k);
    if (!found) return undefined;
    this.#entries.delete(k);
    if (found.expires <= this.#now()) return undefined;
    const { entry } = found;
    if (entry.username !== who.username || entry.nasIp !== who.nasIp || entry.client !== who.client) return undefined;
    return entry;
  }

  /**
   * Puts a taken entry back under its State, for a fresh TTL: its answer could not be checked at
   * all (every primary slot busy), and the NAS's retransmit of that answer must still find it.
   */
  restore(state: Uint8Array, entry: ChallengeEntry): void {
    this.#entries.set(key(state), { entry, expires: this.#now() + this.#ttlMs });
  }

  /** Entries are in insertion order, so expired ones sit at the front. */
  #sweep(): void {
    const now = this.#now();
    for (const [k, v] of this.#entries) {
      if (v.expires > now) break;
      this.#entries.delete(k);
    }
  }
}

const key = (state: Uint8Array): string => Buffer.from(state).toString('base64');
