import type { EdgeFailure, TransportCause } from './result.ts';

/**
 * What Node's fetch (undici) threw, as an edge failure. Undici wraps socket errors in
 * `TypeError('fetch failed', { cause })`; aborts from our deadline surface as TimeoutError/AbortError.
 * A certificate that does not verify is not an outage: something answered that cannot prove it is
 * the edge (a TLS-intercepting middlebox, a wrong host), so it never fails open — and like any
 * unverifiable answer it does not open the breaker for everyone.
 */
export function fetchFailure(error: unknown): EdgeFailure {
  const code = errorCode(error);
  if (code !== undefined && isCertificateError(code)) return { kind: 'unverified', detail: `TLS: ${code}` };
  const { cause, detail } = classifyFetchError(error);
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

function classifyFetchError(error: unknown): { cause: TransportCause; detail: string } {
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
      return { cause: 'refused', detail: code };
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return { cause: 'timeout', detail: code };
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
