/** Caps on primary checks running at once: all of them, and those of any one RADIUS client. */
export interface PrimaryLimits {
  overall: number;
  perClient: number;
}

/**
 * Admission to primary checks (scrypt, LDAP binds, upstream RADIUS), so that a flood from one
 * client (a legacy NAS, or forged packets in its name) cannot take every check slot from the
 * others. A refused request gets no answer: the NAS retransmits it once a slot may be free.
 */
export class PrimaryAdmission {
  #limits: PrimaryLimits;
  #inFlight = 0;
  readonly #byClient = new Map<string, number>();
  // Keyed by configured client name, so bounded by the client list.
  readonly #refused = new Map<string, number>();

  constructor(limits: PrimaryLimits) {
    this.#limits = limits;
  }

  /** New caps (SIGHUP); checks already running keep their slots. */
  setLimits(limits: PrimaryLimits): void {
    this.#limits = limits;
  }

  /** A slot for one check of `client` (call the returned release when it ends), or undefined at a cap. */
  tryEnter(client: string): (() => void) | undefined {
    const mine = this.#byClient.get(client) ?? 0;
    if (this.#inFlight >= this.#limits.overall || mine >= this.#limits.perClient) {
      this.#refused.set(client, (this.#refused.get(client) ?? 0) + 1);
      return undefined;
    }
    this.#inFlight++;
    this.#byClient.set(client, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight--;
      const left = (this.#byClient.get(client) ?? 1) - 1;
      if (left === 0) this.#byClient.delete(client);
      else this.#byClient.set(client, left);
    };
  }

  /** Checks refused so far, by client name (monotonic). */
  refusedByClient(): Record<string, number> {
    return Object.fromEntries(this.#refused);
  }

  inFlight(): number {
    return this.#inFlight;
  }
}
