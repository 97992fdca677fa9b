-- Audit log of every 2FA decision, made at the edge or uploaded from a relay's offline journal.
-- `id` is chosen by whoever made the decision, so a relay re-uploading a batch after a crash is a
-- no-op (INSERT OR IGNORE). Times are epoch milliseconds.
CREATE TABLE decisions (
  id TEXT PRIMARY KEY,
  time INTEGER NOT NULL,
  site TEXT NOT NULL,
  relay TEXT,
  username TEXT NOT NULL,
  nas_ip TEXT,
  nas_identifier TEXT,
  client_ip TEXT,
  stage TEXT NOT NULL,
  factor TEXT,
  result TEXT NOT NULL,
  reason TEXT NOT NULL,
  source TEXT NOT NULL,
  latency_ms INTEGER,
  received_at INTEGER NOT NULL
);

-- Listing pages newest first on (time, id); each filter has an index that keeps that order.
CREATE INDEX decisions_time ON decisions (time, id);
CREATE INDEX decisions_site_time ON decisions (site, time, id);
CREATE INDEX decisions_username_time ON decisions (username, time, id);
CREATE INDEX decisions_result ON decisions (result);
CREATE INDEX decisions_source ON decisions (source);

-- Last heartbeat per relay key.
CREATE TABLE relays (
  site TEXT NOT NULL,
  key TEXT NOT NULL,
  name TEXT,
  version TEXT NOT NULL,
  uptime_s INTEGER NOT NULL,
  breaker_state TEXT NOT NULL,
  counters TEXT NOT NULL,
  last_seen INTEGER NOT NULL,
  PRIMARY KEY (site, key)
);
