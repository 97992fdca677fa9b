import type { CallSignal } from '../deadline.ts';

/** One call to the edge as the edge client makes it: a signed request, a capped answer. */
export interface EdgeRequest {
  url: URL;
  method: 'GET' | 'POST';
  headers: Readonly<Record<string, string>>;
  body?: Uint8Array;
  /** The call's deadline: covers connecting, the headers and the body. */
  signal: CallSignal;
  /** The most body bytes read for an answer with this status; past it the stream is dropped. */
  maxBytes: (status: number) => number;
}

export interface EdgeResponse {
  status: number;
  /** A response header by its lower-case name. */
  header(name: string): string | undefined;
  body: Uint8Array<ArrayBuffer> | 'too_large';
}

/**
 * How the relay reaches the edge (http/transport.ts is the real one; tests substitute a fake).
 * A failure throws; edge/transport.ts classifies what it throws.
 */
export interface EdgeTransport {
  request(req: EdgeRequest): Promise<EdgeResponse>;
  /** Closes the connections to origins none of `urls` names; calls under way finish on theirs. */
  retain(urls: ReadonlyArray<string>): void;
  close(): Promise<void>;
}

/**
 * The request never left the relay (the connection went away before the stream opened, or the
 * server refused the stream unprocessed: REFUSED_STREAM, or above a GOAWAY's last stream id).
 * Sending it again cannot double a push.
 */
export class NotSentError extends Error {
  readonly code = 'ERR_EDGE_NOT_SENT';
  constructor(detail: string, options?: ErrorOptions) {
    super(`request not sent: ${detail}`, options);
  }
}

/** A 3xx is never followed: the edge does not redirect, so one in the path is not the edge. */
export class RedirectError extends Error {
  readonly code = 'ERR_EDGE_REDIRECT';
  constructor(status: number) {
    super(`redirect (HTTP ${status}) not followed`);
  }
}

/** The error an answer with this status ends its call with, over either protocol, if it is a redirect. */
export const redirectOf = (status: number): RedirectError | undefined =>
  status >= 300 && status <= 399 ? new RedirectError(status) : undefined;

/** The stream ended before the whole answer arrived (the connection or the stream was reset). */
export class ResetError extends Error {
  readonly code = 'ERR_EDGE_RESET';
}

export const headerOf =
  (headers: Readonly<Record<string, string | string[] | number | undefined>>) =>
  (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v === undefined ? undefined : String(v);
  };
