/**
 * The (relay key, nonce) pairs a Durable Object has accepted, in its SQLite, each kept until the
 * replay window has passed. Synchronous (DO SQL): the check and the insert happen with no await in
 * between, so two copies of one request cannot both pass.
 */
export class NonceLog {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS nonces (
        relay_key TEXT NOT NULL, nonce TEXT NOT NULL, expires INTEGER NOT NULL, PRIMARY KEY (relay_key, nonce));
      CREATE INDEX IF NOT EXISTS nonces_expires ON nonces (expires)`);
  }

  /** True the first time a pair is seen within `windowMs`; false for a replay. */
  claim(relayKey: string, nonce: string, now: number, windowMs: number): boolean {
    this.#sql.exec('DELETE FROM nonces WHERE expires <= ?', now);
    const seen = this.#sql
      .exec<{ n: number }>('SELECT COUNT(*) AS n FROM nonces WHERE relay_key = ? AND nonce = ?', relayKey, nonce)
      .one();
    if (seen.n > 0) return false;
    this.#sql.exec('INSERT INTO nonces (relay_key, nonce, expires) VALUES (?, ?, ?)', relayKey, nonce, now + windowMs);
    return true;
  }
}
