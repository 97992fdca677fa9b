import {
  type CallFailure,
  classifyFailure,
  decideOnFailure,
  type FailmodeDecision,
  type Stage,
} from '@duo-edge/contract/failmode';
import { assertNever } from '@duo-edge/contract/result';
import type { Failmode } from '@duo-edge/contract/wire';
import type { EdgeFailure } from '../edge/result.ts';

/**
 * An edge failure in the contract's terms. The edge applies the failmode to Duo's failures itself
 * and signs that decision; what reaches here is the edge being unusable:
 * - unreachable, refused, reset, breaker open: no answer (our own deadline expiring is the timeout);
 * - an unsigned 5xx: no answer either. The edge signs what it says, so a 5xx without a signature
 *   comes from whatever stands in front of it while the edge is down;
 * - a 4xx (key revoked, site misconfigured, request refused): a refusal, by its status;
 * - a 2xx it cannot verify: unverifiable, never an outage, so never a reason to fail open;
 * - a correctly signed answer it cannot parse: the edge spoke in a newer tongue (version skew).
 */
export function callFailure(f: EdgeFailure): CallFailure {
  switch (f.kind) {
    case 'transport':
      return { outcome: 'no_answer', timedOut: f.cause === 'timeout' };
    case 'http':
      return f.status >= 500 ? { outcome: 'no_answer', timedOut: false } : { outcome: 'http_status', status: f.status };
    case 'unverified':
      return { outcome: 'unverifiable' };
    case 'version_skew':
      return { outcome: 'version_skew' };
    default:
      return assertNever(f);
  }
}

export function localFailmode(
  f: EdgeFailure,
  stage: Stage,
  failmode: Failmode,
  primaryPassed: boolean,
): FailmodeDecision {
  return decideOnFailure({ failmode, stage, failure: classifyFailure(callFailure(f)), primaryPassed });
}
