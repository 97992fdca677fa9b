import type { AuditRefusal } from '@duo-edge/contract/audit';
import { MAX_SKEW_SECONDS } from '@duo-edge/contract/signing';

const DAY_MS = 86_400_000;

/**
 * The times a relay's journal record may carry: not ahead of the edge clock by more than the
 * allowed skew, and not from before the relay's key was added (less the same skew), or, for a key
 * without `added`, not older than the audit retention, past which the log keeps nothing anyway.
 */
export function recordTimeRefusal(
  time: number,
  bounds: { now: number; keyAdded: number | undefined; retentionDays: number },
): AuditRefusal | undefined {
  const skew = MAX_SKEW_SECONDS * 1000;
  if (time > bounds.now + skew) return 'time_in_future';
  if (bounds.keyAdded !== undefined && time < bounds.keyAdded - skew) return 'time_before_key_added';
  if (time < bounds.now - bounds.retentionDays * DAY_MS) return 'time_beyond_retention';
  return undefined;
}
