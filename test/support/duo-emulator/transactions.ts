/**
 * Auth transactions (txid -> pending | approved | denied | timeout), held explicitly so a human page
 * or a test can answer a push with approve(txid) / deny(txid) instead of the demo users' autopilot.
 */

export type TxState = 'pending' | 'approved' | 'denied' | 'timeout';

export interface AuthOutcome {
  result: 'allow' | 'deny';
  status: string;
  status_msg: string;
}

export interface Transaction {
  readonly txid: string;
  readonly username: string;
  readonly factor: string;
  readonly createdAt: number;
  state: TxState;
  outcome?: AuthOutcome;
  /** Settles with the final outcome. */
  readonly done: Promise<AuthOutcome>;
}

export const OUTCOME = {
  approved: { result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' },
  denied: { result: 'deny', status: 'deny', status_msg: 'Login request denied.' },
  timeout: { result: 'deny', status: 'timeout', status_msg: 'Login request timed out.' },
} as const satisfies Record<Exclude<TxState, 'pending'>, AuthOutcome>;

export class TransactionStore {
  readonly #txs = new Map<string, Transaction & { settle(o: AuthOutcome): void }>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  open(username: string, factor: string): Transaction {
    let settle!: (o: AuthOutcome) => void;
    const done = new Promise<AuthOutcome>((resolve) => {
      settle = resolve;
    });
    const tx = {
      txid: crypto.randomUUID(),
      username,
      factor,
      createdAt: this.#now(),
      state: 'pending' as TxState,
      done,
      settle,
    };
    this.#txs.set(tx.txid, tx);
    return tx;
  }

  /** Ends a pending transaction; false when unknown or already final. */
  finish(txid: string, state: Exclude<TxState, 'pending'>, outcome: AuthOutcome = OUTCOME[state]): boolean {
    const tx = this.#txs.get(txid);
    if (!tx || tx.state !== 'pending') return false;
    tx.state = state;
    tx.outcome = outcome;
    tx.settle(outcome);
    return true;
  }

  approve = (txid: string): boolean => this.finish(txid, 'approved');
  deny = (txid: string): boolean => this.finish(txid, 'denied');

  get(txid: string): Transaction | undefined {
    return this.#txs.get(txid);
  }

  pending(): Transaction[] {
    return [...this.#txs.values()].filter((tx) => tx.state === 'pending');
  }

  /** Runs fn after ms unless the store is closed first. */
  after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    timer.unref?.();
    this.#timers.add(timer);
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
