-- Primary-only overrides: at most one row per site. It holds only while expires_at (epoch ms) is in
-- the future, so it ends by itself; a later set replaces the row, a clear deletes it.
CREATE TABLE site_overrides (
  site TEXT PRIMARY KEY,
  mode TEXT NOT NULL,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  set_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

-- Every admin action (override set and clear, console sign-in and sign-out): who, what, when.
CREATE TABLE admin_actions (
  id TEXT PRIMARY KEY,
  time INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  site TEXT,
  detail TEXT NOT NULL
);
CREATE INDEX admin_actions_site_time ON admin_actions (site, time);

-- Failed console sign-ins per client IP in a fixed window, shared by every isolate.
CREATE TABLE signin_failures (
  ip TEXT PRIMARY KEY,
  window_start INTEGER NOT NULL,
  failures INTEGER NOT NULL
);
