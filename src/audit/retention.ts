import { purgeSigninFailures } from '../admin/console/signin-limit.ts';
import { purgeRelaysSilentSince } from '../relays/store.ts';
import { purgeOlderThan } from './store.ts';

export const DEFAULT_RETENTION_DAYS = 90;
const DAY_MS = 86_400_000;

export interface RetentionEnv {
  AUDIT_DB: D1Database;
  /** Whole days to keep decisions and silent relays; unset or invalid means 90. */
  AUDIT_RETENTION_DAYS?: string;
}

export function retentionDays(raw: string | undefined): number {
  const days = Number(raw);
  return raw && Number.isInteger(days) && days > 0 ? days : DEFAULT_RETENTION_DAYS;
}

/**
 * For the scheduled handler: drops decisions older than the retention, relays silent as long, and
 * sign-in failure counts whose window has ended.
 */
export async function runRetention(
  env: RetentionEnv,
  now: number,
): Promise<{ decisions: number; relays: number; signinFailures: number }> {
  const cutoff = now - retentionDays(env.AUDIT_RETENTION_DAYS) * DAY_MS;
  const decisions = await purgeOlderThan(env.AUDIT_DB, cutoff);
  const relays = await purgeRelaysSilentSince(env.AUDIT_DB, cutoff);
  const signinFailures = await purgeSigninFailures(env.AUDIT_DB, now);
  return { decisions, relays, signinFailures };
}
