import { decideOnFailure, type FailmodeDecision, type FailureKind, type Stage } from '../../../src/failmode/rules.ts';
import type { Failmode } from '../../../src/wire/schemas.ts';
import type { EdgeFailure } from '../edge/result.ts';

/**
 * How an edge failure enters the failmode table. The edge applies the failmode to Duo's failures
 * itself and signs that decision; what reaches here is the edge being unusable:
 * - unreachable, reset, breaker open, 5xx, unsigned/forged answer: the edge is down (`transport`);
 * - our deadline expired: `timeout` (the auth stage has its own Reply-Message);
 * - 4xx (key revoked, request refused): refused on purpose, never fails open (`http4xx`);
 * - a signed answer that breaks the schema: `malformed`, as for Duo.
 */
export function failureKind(f: EdgeFailure): FailureKind {
  switch (f.kind) {
    case 'transport':
      return f.cause === 'timeout' ? 'timeout' : 'transport';
    case 'http':
      return f.status >= 500 ? 'transport' : 'http4xx';
    case 'bad_signature':
      return 'transport';
    case 'malformed':
      return 'malformed';
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
