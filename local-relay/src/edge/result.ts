/**
 * What one call to the edge produced. Only `ok` is an answer; everything else is an edge failure
 * that the flow turns into a local failmode decision (flow/edge-failure.ts).
 */
export type TransportCause = 'refused' | 'timeout' | 'reset' | 'breaker_open';

export type EdgeFailure =
  | { kind: 'transport'; cause: TransportCause; detail?: string }
  /** `code`: the error code of a 4xx body (e.g. `site_misconfigured`), for display and metrics only. */
  | { kind: 'http'; status: number; code?: string }
  /** A 2xx nobody verifiably sent: no or a wrong decision signature, or too large to verify. */
  | { kind: 'unverified'; detail: string }
  /** Correctly signed by the edge, but not an answer this relay can parse (version skew). */
  | { kind: 'version_skew'; detail: string };

export type EdgeResult<T> = { kind: 'ok'; value: T } | EdgeFailure;
