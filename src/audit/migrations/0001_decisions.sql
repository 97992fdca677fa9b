-- placeholder replaced by the audit log work
CREATE TABLE IF NOT EXISTS schema_info (version INTEGER NOT NULL);
