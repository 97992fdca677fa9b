import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

// Each test file starts from the real schema, applied with the same migrations as production.
await applyD1Migrations(env.AUDIT_DB, env.TEST_MIGRATIONS);
