/**
 * Failed console sign-ins per client IP, in D1 so the limit holds across isolates and colos: after
 * FAILURES failures within WINDOW_MS the IP is refused without the token being checked.
 */

export const SIGNIN_LIMIT = { failures: 5, windowMs: 15 * 60_000 } as const;

export async function signinBlocked(db: D1Database, ip: string, now: number): Promise<boolean> {
  const row = await db
    .prepare('SELECT failures FROM signin_failures WHERE ip = ?1 AND window_start > ?2')
    .bind(ip, now - SIGNIN_LIMIT.windowMs)
    .first<{ failures: number }>();
  return (row?.failures ?? 0) >= SIGNIN_LIMIT.failures;
}

/** One atomic statement, so concurrent failures from several isolates all count. */
export async function recordSigninFailure(db: D1Database, ip: string, now: number): Promise<void> {
  await db
    .prepare(
      `INSERT INTO signin_failures (ip, window_start, failures) VALUES (?1, ?2, 1)
       ON CONFLICT (ip) DO UPDATE SET
         failures = CASE WHEN window_start > ?3 THEN failures + 1 ELSE 1 END,
         window_start = CASE WHEN window_start > ?3 THEN window_start ELSE ?2 END`,
    )
    .bind(ip, now, now - SIGNIN_LIMIT.windowMs)
    .run();
}

export async function clearSigninFailures(db: D1Database, ip: string): Promise<void> {
  await db.prepare('DELETE FROM signin_failures WHERE ip = ?1').bind(ip).run();
}

/** Drops counts whose window has ended (they no longer block anyone); returns how many. */
export async function purgeSigninFailures(db: D1Database, now: number): Promise<number> {
  const { meta } = await db
    .prepare('DELETE FROM signin_failures WHERE window_start <= ?1')
    .bind(now - SIGNIN_LIMIT.windowMs)
    .run();
  return meta.changes;
}
