import { REPLY } from './messages.ts';
import { assertNever } from './result.ts';
import type { Failmode } from './wire.ts';

/**
 * The failmode decision, with Duo Authentication Proxy's outcomes.
 * fail open <=> failmode is `safe` AND the failure is fail-open-eligible AND primary auth passed.
 * Pure: the edge applies it to Duo failures, the relay to edge failures, with the same table.
 */
export type Stage = 'preauth' | 'auth';

/** What went wrong talking to the second-factor service (Duo, or the edge as seen by the relay). */
export type FailureKind =
  | 'transport' // network error, refused, reset, timeout, edge unreachable
  | 'timeout' // transport timeout specifically (auth stage has its own message)
  | 'http5xx'
  | 'malformed' // valid JSON, fields missing or invalid
  | 'http4xx' // Duo 4xx / stat FAIL with 4xx: bad keys, bad signature, rate limited; an edge refusal
  | 'not_json' // HTTP 200 whose body is not JSON
  | 'unverified' // the edge as seen by the relay: a 2xx it cannot verify (no/bad signature, too large)
  | 'version_skew'; // the edge as seen by the relay: correctly signed, but not an answer this relay parses

export interface FailureInput {
  failmode: Failmode;
  stage: Stage;
  failure: FailureKind;
  /** false when there was no primary auth (duo_only): fail-open is then never allowed here. */
  primaryPassed: boolean;
}

export interface FailmodeDecision {
  result: 'allow' | 'deny';
  message: string;
  /**
   * Whether this failure could fail open at all (safe site, primary passed). Not stored on its own:
   * the audit record keeps the stage and failure kind, from which isFailOpenEligible gives it again.
   */
  eligible: boolean;
}

/**
 * How a call to the second-factor service ended without a usable answer, in terms both callers
 * share. Each side only translates its own transport's errors into these; the rules that turn them
 * into a row of the failmode table live here, once.
 */
export type CallFailure =
  /** Nobody answered: network error, refused, reset, or our own deadline (`timedOut`). */
  | { outcome: 'no_answer'; timedOut: boolean }
  /** The service answered with an error status: 4xx (or Duo's `stat: FAIL`) is a refusal, 5xx an outage. */
  | { outcome: 'http_status'; status: number }
  /** A success status whose body is not JSON. */
  | { outcome: 'not_json' }
  /** Valid JSON, fields missing or invalid. */
  | { outcome: 'malformed' }
  /** A 2xx nobody verifiably sent (no or a wrong signature, too large to verify). */
  | { outcome: 'unverifiable' }
  /** Correctly signed, but not an answer this side can parse. */
  | { outcome: 'version_skew' };

export function classifyFailure(f: CallFailure): FailureKind {
  switch (f.outcome) {
    case 'no_answer':
      return f.timedOut ? 'timeout' : 'transport';
    case 'http_status':
      return f.status >= 500 ? 'http5xx' : 'http4xx';
    case 'not_json':
      return 'not_json';
    case 'malformed':
      return 'malformed';
    case 'unverifiable':
      return 'unverified';
    case 'version_skew':
      return 'version_skew';
    default:
      return assertNever(f);
  }
}

export function isFailOpenEligible(stage: Stage, failure: FailureKind): boolean {
  switch (failure) {
    case 'transport':
    case 'timeout':
      // A transport failure after preauth succeeded fails closed (Duo parity: force_fail_closed).
      return stage === 'preauth';
    case 'http5xx':
    case 'malformed':
      return true;
    case 'http4xx':
    case 'not_json':
    // Nobody verifiably spoke: treated as "200 but not JSON", never as an outage.
    case 'unverified':
    // The edge spoke (its signature holds); not understanding it is no reason to let anyone in.
    case 'version_skew':
      return false;
    default:
      return assertNever(failure);
  }
}

export function decideOnFailure(input: FailureInput): FailmodeDecision {
  const eligible = isFailOpenEligible(input.stage, input.failure);
  if (eligible && input.failmode === 'safe' && input.primaryPassed) {
    return { result: 'allow', message: REPLY.failSafeAllowed, eligible };
  }
  if (input.stage === 'preauth') {
    return { result: 'deny', message: REPLY.failSecureDenied, eligible };
  }
  return {
    result: 'deny',
    message: input.failure === 'timeout' ? REPLY.authTimeout : REPLY.authFailure,
    eligible,
  };
}
