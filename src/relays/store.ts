import {
  type BreakerState,
  type HeartbeatRequest,
  heartbeatRequestSchema,
  SILENT_AFTER_MS,
} from '@duo-edge/contract/heartbeat';

/** A `relays` row as D1 returns it: counters are stored as JSON text. */
interface RelayRow {
  site: string;
  key: string;
  name: string | null;
  version: string;
  uptime_s: number;
  breaker_state: BreakerState;
  counters: string;
  last_seen: number;
}

export interface RelayStatus extends Omit<RelayRow, 'counters'> {
  counters: Record<string, number>;
  /** No heartbeat for more than SILENT_AFTER_MS. */
  silent: boolean;
}

export async function recordHeartbeat(
  db: D1Database,
  site: string,
  key: string,
  beat: HeartbeatRequest,
  now: number,
): Promise<void> {
  const b = heartbeatRequestSchema.parse(beat);
  await db
    .prepare(
      `INSERT INTO relays (site, key, name, version, uptime_s, breaker_state, counters, last_seen)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
       ON CONFLICT (site, key) DO UPDATE SET name = excluded.name, version = excluded.version,
         uptime_s = excluded.uptime_s, breaker_state = excluded.breaker_state,
         counters = excluded.counters, last_seen = excluded.last_seen`,
    )
    .bind(site, key, b.name ?? null, b.version, b.uptime_s, b.breaker_state, JSON.stringify(b.counters), now)
    .run();
}

/** Every known relay, silent ones first, then by site and key. */
export async function listRelays(db: D1Database, now: number): Promise<RelayStatus[]> {
  const { results } = await db.prepare('SELECT * FROM relays ORDER BY site, key').all<RelayRow>();
  return results
    .map((r) => ({
      ...r,
      counters: JSON.parse(r.counters) as Record<string, number>,
      silent: now - r.last_seen > SILENT_AFTER_MS,
    }))
    .sort((a, b) => Number(b.silent) - Number(a.silent));
}

/** Forgets relays whose last heartbeat is older than cutoffMs; returns how many. */
export async function purgeRelaysSilentSince(db: D1Database, cutoffMs: number): Promise<number> {
  const { meta } = await db.prepare('DELETE FROM relays WHERE last_seen < ?1').bind(cutoffMs).run();
  return meta.changes;
}
