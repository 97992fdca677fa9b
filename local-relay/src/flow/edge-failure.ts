import { decideOnFailure, type FailmodeDecision, type FailureKind, type Stage } from '@duo-edge/contract/failmode';
import type { Failmode } from '@duo-edge/contract/wire';
import type { EdgeFailure } from '../edge/result.ts';

/**
 * How an edge failure enters the failmode table. The edge applies the failmode to Duo's failures
 * itself and signs that decision; what reaches here is the edge being unusable:
 * - no answer: unreachable, refused, reset, breaker open, or an unsigned 5xx: the edge is down
 *   (`transport`), and our own deadline expiring is `timeout` (the auth stage has its own text);
 * - a 4xx (key revoked, site misconfigured, request refused): refused on purpose (`http4xx`);
 * - a 2xx it cannot verify (no or a wrong signature, too large): nobody verifiably spoke
 *   (`unverified`), never an outage, so never a reason to fail open;
 * - a correctly signed answer it cannot parse: the edge spoke in a newer tongue (`version_skew`).
 */
export function failureKind(f: EdgeFailure): FailureKind {
  switch (f.kind) {
    case 'transport':
      return f.cause === 'timeout' ? 'timeout' : 'transport';
    case 'http':
      return f.status >= 500 ? 'transport' : 'http4xx';
    case 'unverified':
      return 'unverified';
    case 'version_skew':
      return 'version_skew';
  }
}

export function localFailmode(
  f: EdgeFailure,
  stage: Stage,
  failmode: Failmode,
  primaryPassed: boolean,
): FailmodeDecision {
  return decideOnFailure({ failmode, stage, failure: failureKind(f), primaryPassed });
}
