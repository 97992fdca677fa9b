import type { AttemptKind } from './limits.ts';

/**
 * Sliding-window attempt counts in the Durable Object's SQLite, so limits survive eviction and
 * restarts. Calls are synchronous (DO SQL), which the single-flight logic relies on.
 */
export class AttemptLog {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS attempts (kind TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS attempts_kind_at ON attempts (kind, at)`);
  }

  /** Attempts of this kind with at > since. */
  count(kind: AttemptKind, since: number): number {
    const row = this.#sql
      .exec<{ n: number }>('SELECT COUNT(*) AS n FROM attempts WHERE kind = ? AND at > ?', kind, since)
      .one();
    return row.n;
  }

  add(kind: AttemptKind, at: number): void {
    this.#sql.exec('INSERT INTO attempts (kind, at) VALUES (?, ?)', kind, at);
  }

  /** Forgets attempts at or before `before`: they no longer count in any window this small. */
  prune(before: number): void {
    this.#sql.exec('DELETE FROM attempts WHERE at <= ?', before);
  }
}
