import type { StoredDecision } from '@duo-edge/contract/audit';
import type { DecisionSource } from '@duo-edge/contract/wire';

/** Aggregates for the overview, straight from the audit log. */

export interface DecisionCount {
  source: DecisionSource;
  result: 'allow' | 'deny';
  n: number;
}

export async function decisionCounts(db: D1Database, from: number): Promise<DecisionCount[]> {
  const { results } = await db
    .prepare(
      'SELECT source, result, COUNT(*) AS n FROM decisions WHERE time >= ?1 GROUP BY source, result ORDER BY source, result',
    )
    .bind(from)
    .all<DecisionCount>();
  return results;
}

/** The newest logins a failmode decided (Duo's own admin panel never sees these). */
export async function failmodeDecisions(db: D1Database, from: number, limit: number): Promise<StoredDecision[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM decisions WHERE time >= ?1 AND source IN ('failmode-edge', 'failmode-relay')
       ORDER BY time DESC, id DESC LIMIT ?2`,
    )
    .bind(from, limit)
    .all<StoredDecision>();
  return results;
}
