/**
 * Group commit for an append-only file: one datasync covers every byte written before it started.
 * While one runs, later writes wait for the next one, which then covers all of them at once — so
 * under load the journal pays one fsync per batch, not one per record, and at most one sync is in
 * progress with one more behind it.
 *
 * Positions are running totals of bytes written since the journal opened; they never go down (not
 * even when the file is compacted), so "durable up to N" stays meaningful across a truncate.
 */
export interface GroupCommit {
  /** Records that `bytes` more were handed to the kernel, and makes sure a sync follows them. */
  wrote(bytes: number): void;
  /** Running total of bytes written. */
  written(): number;
  /** Settles once a datasync started after the first `upTo` bytes were written has finished;
   * rejects when that datasync failed (those bytes may not survive a power loss). */
  durable(upTo: number): Promise<void>;
}

interface Waiter {
  upTo: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function groupCommit(datasync: () => Promise<void>, onSyncError: (error: unknown) => void): GroupCommit {
  let written = 0;
  let synced = 0;
  let running = false;
  let waiters: Waiter[] = [];

  const settle = (upTo: number, error: unknown) => {
    const done = waiters.filter((w) => w.upTo <= upTo);
    waiters = waiters.filter((w) => w.upTo > upTo);
    for (const w of done) error === undefined ? w.resolve() : w.reject(error);
  };

  async function loop(): Promise<void> {
    running = true;
    while (synced < written) {
      const target = written;
      let failure: unknown;
      try {
        await datasync();
      } catch (error) {
        // Linux marks the pages clean after a failed fsync: retrying would "succeed" without
        // writing them. Say so once, and move on rather than spin.
        failure = error ?? new Error('datasync failed');
        onSyncError(failure);
      }
      synced = target;
      settle(target, failure);
    }
    running = false;
  }

  return {
    wrote(bytes) {
      written += bytes;
      if (!running) void loop();
    },
    written: () => written,
    durable(upTo) {
      if (upTo <= synced) return Promise.resolve();
      return new Promise((resolve, reject) => {
        waiters.push({ upTo, resolve, reject });
        if (!running) void loop();
      });
    },
  };
}
