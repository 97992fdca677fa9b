/** The admin action log (D1 `admin_actions`): every change an admin makes, with actor and time. */

export type AdminActionKind = 'override_set' | 'override_clear' | 'signin' | 'signout';

export interface AdminAction {
  id: string;
  /** Epoch ms. */
  time: number;
  /** Who: `admin-token` for the bearer API and the token sign-in, the Access email otherwise. */
  actor: string;
  action: AdminActionKind;
  site: string | null;
  /** Human-readable detail (reason, duration). Never a token or a secret. */
  detail: string;
}

export function adminActionStatement(
  db: D1Database,
  a: Omit<AdminAction, 'id' | 'time'>,
  now: number,
): D1PreparedStatement {
  return db
    .prepare('INSERT INTO admin_actions (id, time, actor, action, site, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)')
    .bind(crypto.randomUUID(), now, a.actor, a.action, a.site, a.detail);
}

export async function recordAdminAction(db: D1Database, a: Omit<AdminAction, 'id' | 'time'>, now: number) {
  await adminActionStatement(db, a, now).run();
}

/** Newest first. */
export async function listAdminActions(db: D1Database, site: string, limit: number): Promise<AdminAction[]> {
  const { results } = await db
    .prepare('SELECT * FROM admin_actions WHERE site = ?1 ORDER BY time DESC, id DESC LIMIT ?2')
    .bind(site, limit)
    .all<AdminAction>();
  return results;
}
