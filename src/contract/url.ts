import { err, ok, type Result } from './result.ts';

/**
 * The rule for a URL a deployable sends secrets or signed requests to (the edge's Duo transport
 * override, the relay's edge URLs): https anywhere, plain http only to this machine, so a stray
 * setting cannot carry them in clear over a network. No credentials, query or fragment: the
 * caller adds paths and parameters itself, and a password in a config URL would end up in logs.
 *
 * Judged on the URL as the WHATWG parser reads it, never on the raw text: `127.1` and `0x7f.0.0.1`
 * are 127.0.0.1 to the parser and to fetch alike, and `http://127.0.0.1@evil.example/` goes to
 * evil.example.
 */
export type ServiceUrlProblem = 'not_a_url' | 'not_https_or_loopback' | 'credentials_query_or_fragment';

export const SERVICE_URL_PROBLEM: Readonly<Record<ServiceUrlProblem, string>> = {
  not_a_url: 'must be a URL',
  not_https_or_loopback: 'must be https://, or http:// to a loopback host (127.0.0.0/8, [::1], localhost)',
  credentials_query_or_fragment: 'must not carry credentials, query or fragment',
};

/**
 * A parsed URL's `hostname` on this machine: 127.0.0.0/8, `[::1]`, `localhost`. Only these
 * spellings: an IPv4-mapped `[::ffff:7f00:1]` or `localhost.` are not taken on trust and need https.
 */
export function isLoopbackHostname(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

export function checkServiceUrl(raw: string): Result<URL, ServiceUrlProblem> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return err('not_a_url');
  }
  const local = url.protocol === 'http:' && isLoopbackHostname(url.hostname);
  if (url.protocol !== 'https:' && !local) return err('not_https_or_loopback');
  if (url.username || url.password || url.search || url.hash) return err('credentials_query_or_fragment');
  return ok(url);
}
