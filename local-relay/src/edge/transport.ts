import type { EdgeFailure, TransportCause } from './result.ts';

/**
 * What the edge transport (http/) threw, as an edge failure: Node's socket, TLS and HTTP/2 errors
 * and the transport's own (`ERR_EDGE_*`); the call's deadline surfaces as TimeoutError/AbortError.
 * A certificate that does not verify is not an outage: something answered that cannot prove it is
 * the edge (a TLS-intercepting middlebox, a wrong host), so it never fails open — and like any
 * unverifiable answer it does not open the breaker for everyone.
 */
export function transportFailure(error: unknown): EdgeFailure {
  const code = errorCode(error);
  if (code !== undefined && isCertificateError(code)) return { kind: 'unverified', detail: `TLS: ${code}` };
  // The edge never redirects. A 3xx is something else answering in its name (an access gateway
  // sending to its sign-in page, a captive portal): an answer that is not the edge's, not an outage.
  if (code === 'ERR_EDGE_REDIRECT') return { kind: 'unverified', detail: (error as Error).message };
  const { cause, detail } = classifyError(error);
  return { kind: 'transport', cause, detail };
}

const CERTIFICATE_ERRORS: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

const isCertificateError = (code: string): boolean => code.startsWith('CERT_') || CERTIFICATE_ERRORS.has(code);

function classifyError(error: unknown): { cause: TransportCause; detail: string } {
  const name = (error as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return { cause: 'timeout', detail: name };
  const code = errorCode(error);
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    // Nothing of the call reached the edge: the session went away before its stream opened (or
    // Node would not open one after GOAWAY), or the server refused the stream unprocessed.
    case 'ERR_EDGE_NOT_SENT':
    case 'ERR_HTTP2_GOAWAY_SESSION':
    case 'ERR_HTTP2_INVALID_SESSION':
      return { cause: 'refused', detail: code };
    case 'ETIMEDOUT':
      return { cause: 'timeout', detail: code };
    // A stream or session that broke after the request went out (ERR_HTTP2_STREAM_ERROR,
    // ERR_HTTP2_SESSION_ERROR, ERR_HTTP2_STREAM_CANCEL, ECONNRESET, ERR_EDGE_RESET): the edge may
    // have acted on it.
    default:
      return { cause: 'reset', detail: code ?? 'network error' };
  }
}

function errorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const nested = (e as { cause?: unknown }).cause;
    if (nested === e) break;
    e = nested;
  }
  return undefined;
}

/** Refused means nothing reached the edge: the only failure after which resending cannot double a push. */
export const nothingWasSent = (cause: TransportCause): boolean => cause === 'refused' || cause === 'breaker_open';
