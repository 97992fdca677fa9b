import type { TransportCause } from './result.ts';

/**
 * Classifies what Node's fetch (undici) throws. Undici wraps socket errors in
 * `TypeError('fetch failed', { cause })`; aborts from our deadline surface as TimeoutError/AbortError.
 */
export function classifyFetchError(error: unknown): { cause: TransportCause; detail: string } {
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
