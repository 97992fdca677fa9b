import { adminActionStatement } from '../actions.ts';
import type { OverrideRequest } from './schema.ts';

/**
 * Primary-only overrides in D1, so every isolate of every colo sees the same one. An override
 * holds while `expires_at` is in the future; nothing has to run for it to end.
 */

export interface SiteOverride {
  site: string;
  mode: OverrideRequest['mode'];
  reason: string;
  actor: string;
  set_at: number;
  expires_at: number;
}

/** The override holding for `site` at `now`, if any. */
export async function activeOverride(db: D1Database, site: string, now: number): Promise<SiteOverride | null> {
  return db
    .prepare('SELECT * FROM site_overrides WHERE site = ?1 AND expires_at > ?2')
    .bind(site, now)
    .first<SiteOverride>();
}

/** Every override holding at `now`, by site. */
export async function activeOverrides(db: D1Database, now: number): Promise<Map<string, SiteOverride>> {
  const { results } = await db
    .prepare('SELECT * FROM site_overrides WHERE expires_at > ?1')
    .bind(now)
    .all<SiteOverride>();
  return new Map(results.map((o) => [o.site, o]));
}

/** Sets (or replaces) the site's override and logs the action, in one transaction. */
export async function setOverride(
  db: D1Database,
  site: string,
  req: OverrideRequest,
  actor: string,
  now: number,
): Promise<SiteOverride> {
  const o: SiteOverride = {
    site,
    mode: req.mode,
    reason: req.reason,
    actor,
    set_at: now,
    expires_at: now + req.minutes * 60_000,
  };
  await db.batch([
    db
      .prepare(
        `INSERT INTO site_overrides (site, mode, reason, actor, set_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (site) DO UPDATE SET mode = excluded.mode, reason = excluded.reason, actor = excluded.actor,
           set_at = excluded.set_at, expires_at = excluded.expires_at`,
      )
      .bind(o.site, o.mode, o.reason, o.actor, o.set_at, o.expires_at),
    adminActionStatement(
      db,
      { actor, action: 'override_set', site, detail: `${req.mode} for ${req.minutes} min: ${req.reason}` },
      now,
    ),
  ]);
  return o;
}

/** Ends the site's override (if one holds) and logs the action; true when one was holding. */
export async function clearOverride(db: D1Database, site: string, actor: string, now: number): Promise<boolean> {
  const [deleted] = await db.batch([
    db.prepare('DELETE FROM site_overrides WHERE site = ?1 AND expires_at > ?2').bind(site, now),
    adminActionStatement(db, { actor, action: 'override_clear', site, detail: 'ended by an admin' }, now),
  ]);
  return (deleted?.meta.changes ?? 0) > 0;
}
