/**
 * What one call to the edge produced. Only `ok` is an answer; everything else is an edge failure
 * that the flow turns into a local failmode decision (flow/edge-failure.ts).
 */
export type TransportCause = 'refused' | 'timeout' | 'reset' | 'breaker_open';

export type EdgeFailure =
  | { kind: 'transport'; cause: TransportCause; detail?: string }
  | { kind: 'http'; status: number }
  /** 2xx without a valid decision signature: a middlebox or a misconfigured edge key. */
  | { kind: 'bad_signature' }
  /** Signed, but not JSON or not what the wire schema says. */
  | { kind: 'malformed'; detail: string };

export type EdgeResult<T> = { kind: 'ok'; value: T } | EdgeFailure;

export const isTransport = (r: EdgeResult<unknown>): r is Extract<EdgeFailure, { kind: 'transport' }> =>
  r.kind === 'transport';
