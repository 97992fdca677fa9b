import type { Device } from '@duo-edge/contract/wire';
import type { DuoResult } from './result.ts';

/**
 * The Duo Auth API v2 client contract. The implementation lives in client.ts; decisions and the
 * health check depend on this interface only, so tests and the benchmark can substitute it.
 */

export interface DuoIntegration {
  ikey: string;
  skey: string;
  /** e.g. api-xxxxxxxx.duosecurity.com; always the signed Host, even when baseUrl overrides transport. */
  apiHost: string;
}

export interface CallOptions {
  /** Absolute deadline (epoch ms). 429 retries never sleep past it; the fetch is aborted at it. */
  deadline: number;
  signal?: AbortSignal;
}

export interface PreauthParams {
  username: string;
  ipaddr?: string;
  hostname?: string;
}

/** Validated /auth/v2/preauth response (responses.ts holds the zod schemas). */
export type DuoPreauth =
  | {
      result: 'auth';
      status_msg: string;
      /** Passed to the relay as Duo sent them, so Duo's shape is the wire's. */
      devices: Device[];
      prompt?: string;
      factors?: Record<string, string>;
    }
  | { result: 'allow' | 'deny'; status_msg: string }
  | { result: 'enroll'; status_msg: string; enroll_portal_url?: string };

export interface AuthParams {
  username: string;
  factor: 'auto' | 'push' | 'phone' | 'sms' | 'passcode';
  device?: string;
  passcode?: string;
  ipaddr?: string;
  hostname?: string;
  pushinfo?: Record<string, string>;
}

/** Final /auth/v2/auth (or auth_status) answer. `status` e.g. allow, deny, fraud, timeout, locked_out, sent. */
export interface DuoAuth {
  result: 'allow' | 'deny';
  status: string;
  status_msg: string;
}

export interface DuoClient {
  /** Unsigned; learns the clock offset applied to later signature dates. Returns Duo's time. */
  ping(opts: CallOptions): Promise<DuoResult<{ time: number }>>;
  check(opts: CallOptions): Promise<DuoResult<{ time: number }>>;
  preauth(params: PreauthParams, opts: CallOptions): Promise<DuoResult<DuoPreauth>>;
  /** Synchronous auth: blocks until the user answers or Duo times out. */
  auth(params: AuthParams, opts: CallOptions): Promise<DuoResult<DuoAuth>>;
  /** async=1 then auth_status polling until a final result or the deadline. */
  authAsync(params: AuthParams, opts: CallOptions & { pollIntervalMs?: number }): Promise<DuoResult<DuoAuth>>;
}
