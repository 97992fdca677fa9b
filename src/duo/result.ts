import type { Result } from '@duo-edge/contract/result';

/**
 * Every way a Duo call can end, as data. The failmode rules map DuoError.kind one-to-one onto
 * their FailureKind (decision/failure.ts onto the contract's failmode table), so this union and that
 * table must stay in step.
 */
export type DuoError =
  | { kind: 'transport'; reason: 'network' | 'timeout'; detail: string }
  | { kind: 'http5xx'; status: number; code?: number; message?: string }
  | { kind: 'http4xx'; status: number; code?: number; message?: string }
  | { kind: 'not_json'; status: number }
  | { kind: 'malformed'; detail: string };

export type DuoResult<T> = Result<T, DuoError>;
