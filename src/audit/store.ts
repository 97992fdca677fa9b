import {
  type AuditResult,
  type DecisionRecord,
  decisionRecordSchema,
  type StoredDecision,
} from '@duo-edge/contract/audit';
import { err, ok, type Result } from '@duo-edge/contract/result';
import type { DecisionSource } from '@duo-edge/contract/wire';
import { decodeCursor, encodeCursor } from './cursor.ts';

/** D1 access for the audit log. Every statement is parameterised; nothing here logs record contents. */

export interface DecisionFilters {
  site?: string;
  user?: string;
  result?: AuditResult;
  source?: DecisionSource;
  /** Inclusive lower bound on `time` (epoch ms). */
  from?: number;
  /** Exclusive upper bound on `time` (epoch ms). */
  to?: number;
}

export interface DecisionPage {
  records: StoredDecision[];
  /** Pass back to get the next (older) page; null on the last page. */
  next_cursor: string | null;
}

export const MAX_PAGE_SIZE = 500;

const INSERT = `INSERT OR IGNORE INTO decisions
  (id, time, site, relay, username, nas_ip, nas_identifier, client_ip, stage, factor, result, reason, source, latency_ms, received_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)`;

function insertStatement(db: D1Database, rec: DecisionRecord, receivedAt: number): D1PreparedStatement {
  const r = decisionRecordSchema.parse(rec);
  return db
    .prepare(INSERT)
    .bind(
      r.id,
      r.time,
      r.site,
      r.relay,
      r.username,
      r.nas_ip,
      r.nas_identifier,
      r.client_ip,
      r.stage,
      r.factor,
      r.result,
      r.reason,
      r.source,
      r.latency_ms,
      receivedAt,
    );
}

export async function recordDecision(db: D1Database, rec: DecisionRecord, receivedAt = Date.now()): Promise<void> {
  await insertStatement(db, rec, receivedAt).run();
}

/** One D1 batch (one transaction). Ids already stored are ignored and counted as duplicates. */
export async function recordDecisions(
  db: D1Database,
  recs: readonly DecisionRecord[],
  receivedAt = Date.now(),
): Promise<{ accepted: number; duplicates: number }> {
  if (recs.length === 0) return { accepted: 0, duplicates: 0 };
  const results = await db.batch(recs.map((rec) => insertStatement(db, rec, receivedAt)));
  const accepted = results.reduce((n, r) => n + (r.meta.changes > 0 ? 1 : 0), 0);
  return { accepted, duplicates: recs.length - accepted };
}

type ListError = { kind: 'bad_cursor' };

/** Newest first, keyset-paged on (time, id). */
export async function listDecisions(
  db: D1Database,
  filters: DecisionFilters,
  cursor: string | undefined,
  limit: number,
): Promise<Result<DecisionPage, ListError>> {
  const where: string[] = [];
  const params: Array<string | number> = [];
  const add = (clause: string, ...values: Array<string | number>) => {
    where.push(clause);
    params.push(...values);
  };
  if (filters.site !== undefined) add('site = ?', filters.site);
  if (filters.user !== undefined) add('username = ?', filters.user);
  if (filters.result !== undefined) add('result = ?', filters.result);
  if (filters.source !== undefined) add('source = ?', filters.source);
  if (filters.from !== undefined) add('time >= ?', filters.from);
  if (filters.to !== undefined) add('time < ?', filters.to);
  if (cursor !== undefined) {
    const key = decodeCursor(cursor);
    if (!key) return err({ kind: 'bad_cursor' });
    add('(time < ? OR (time = ? AND id < ?))', key.time, key.time, key.id);
  }
  const size = Math.min(Math.max(1, Math.trunc(limit)), MAX_PAGE_SIZE);
  const sql = `SELECT * FROM decisions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY time DESC, id DESC LIMIT ?`;
  const { results } = await db
    .prepare(sql)
    .bind(...params, size + 1)
    .all<StoredDecision>();
  const records = results.slice(0, size);
  const last = records.at(-1);
  return ok({
    records,
    next_cursor: results.length > size && last ? encodeCursor({ time: last.time, id: last.id }) : null,
  });
}

/** Rows deleted per statement, so one purge never holds D1 for long. */
const PURGE_CHUNK = 5000;

/** Deletes decisions with time < cutoffMs, in chunks; returns how many. */
export async function purgeOlderThan(db: D1Database, cutoffMs: number): Promise<number> {
  const stmt = db
    .prepare('DELETE FROM decisions WHERE id IN (SELECT id FROM decisions WHERE time < ?1 LIMIT ?2)')
    .bind(cutoffMs, PURGE_CHUNK);
  let total = 0;
  for (;;) {
    const { meta } = await stmt.run();
    total += meta.changes;
    if (meta.changes < PURGE_CHUNK) return total;
  }
}
