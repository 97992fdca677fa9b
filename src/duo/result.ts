import type { Result } from '@duo-edge/contract/result';

/**
 * Every way a Duo call can end, as data. decision/failure.ts translates each into the contract's
 * CallFailure with an exhaustive switch, so a new kind cannot skip the failmode table.
 */
export type DuoError =
  | { kind: 'transport'; reason: 'network' | 'timeout'; detail: string }
  | { kind: 'http5xx'; status: number; code?: number; message?: string }
  | { kind: 'http4xx'; status: number; code?: number; message?: string }
  | { kind: 'not_json'; status: number }
  | { kind: 'malformed'; detail: string };

export type DuoResult<T> = Result<T, DuoError>;
