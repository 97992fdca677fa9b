import { type CallFailure, classifyFailure, decideOnFailure, type Stage } from '@duo-edge/contract/failmode';
import { assertNever } from '@duo-edge/contract/result';
import type { AuthResponse } from '@duo-edge/contract/wire';
import type { DuoError } from '../duo/result.ts';
import type { ResolvedSite } from '../sites/load.ts';

/** A Duo error in the contract's terms; the contract's classifyFailure picks the failmode row. */
export function callFailure(e: DuoError): CallFailure {
  switch (e.kind) {
    case 'transport':
      return { outcome: 'no_answer', timedOut: e.reason === 'timeout' };
    case 'http5xx':
    case 'http4xx':
      return { outcome: 'http_status', status: e.status };
    case 'not_json':
      return { outcome: 'not_json' };
    case 'malformed':
      return { outcome: 'malformed' };
    default:
      return assertNever(e);
  }
}

/**
 * Without primary auth (duo_only) the relay has proven nothing about the user, so failing open
 * would let anyone in: only an explicit site acknowledgement allows it (Duo refuses it at config).
 */
export function primaryPassed(site: ResolvedSite, primary: 'passed' | 'none'): boolean {
  return primary === 'passed' || site.options.duo_only_failopen_acknowledged;
}

/** The failmode answer for a Duo error; the same shape fits preauth's allow/deny arms. */
export function failmodeAnswer(
  site: ResolvedSite,
  stage: Stage,
  primary: 'passed' | 'none',
  e: DuoError,
): AuthResponse & { source: 'failmode-edge' } {
  const failure = classifyFailure(callFailure(e));
  const d = decideOnFailure({ failmode: site.failmode, stage, failure, primaryPassed: primaryPassed(site, primary) });
  return {
    result: d.result,
    message: d.message,
    source: 'failmode-edge',
    failmode: { failmode: site.failmode, stage, failure },
  };
}

/** For logs: what went wrong, without anything Duo echoed back that could carry user data. */
export function describeDuoError(e: DuoError): string {
  switch (e.kind) {
    case 'transport':
      return `transport:${e.reason}`;
    case 'http5xx':
    case 'http4xx':
      return `${e.kind}:${e.status}${e.code !== undefined ? `:${e.code}` : ''}`;
    case 'not_json':
      return `not_json:${e.status}`;
    case 'malformed':
      return `malformed:${e.detail}`;
    default:
      return assertNever(e);
  }
}
