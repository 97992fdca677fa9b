import { type IncomingMessage, request } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { utf8 } from '@duo-edge/contract/encoding';
import { CONNECT_TIMEOUT_MS, type TlsConnector, type TlsOptions, tlsTo } from './http/connect.ts';
import { type EdgeResponse, headerOf } from './http/exchange.ts';

/**
 * Every edge call through an outbound HTTP proxy: `CONNECT host:443` and TLS to the edge inside the
 * tunnel for https (ALPN h2 or HTTP/1.1, as directly), the absolute-form request line for plain
 * http (loopback edges only). The edge's signatures are end to end, so the proxy can relay answers
 * but never forge one.
 *
 * What the proxy itself says is kept apart from what the edge says, for the failmode table:
 * - the proxy cannot be reached (refused, reset, timeout): a thrown error, as a direct call would
 *   throw, so it counts as the edge being down;
 * - the proxy answers CONNECT with a 5xx (it could not reach the edge): that unsigned 5xx, edge down;
 * - the proxy refuses (407, 403, any other non-2xx): an unsigned 4xx refusal, which never fails open.
 *   Treating a refusal as an outage would let whoever controls the proxy open a `safe` site.
 */
export interface EdgeProxy {
  /** `http://host:port` of the proxy. */
  url: string;
  /** `user:password` for Basic Proxy-Authorization, resolved from a secret reference. */
  credentials?: string;
  /** Edge hosts reached directly: `edge.example.com`, `.example.com` (any subdomain), an IP. */
  noProxy: ReadonlyArray<string>;
}

/** Error codes in the relay's refusal bodies (refusal-code.ts reads them for the log and metrics). */
export const PROXY_AUTH_REQUIRED = 'proxy_auth_required';
export const PROXY_REFUSED = 'proxy_refused';

/** The proxy answered CONNECT with a non-2xx: the transport turns it into `proxyAnswer`. */
export class ProxyRefusal extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`the outbound proxy answered CONNECT with HTTP ${status}`);
    this.status = status;
  }
}

export interface ProxyHop {
  host: string;
  port: number;
  /** Headers for the proxy itself (Basic credentials), on CONNECT and absolute-form requests. */
  headers: Readonly<Record<string, string>>;
}

export function proxyHopOf(proxy: EdgeProxy): ProxyHop {
  const via = new URL(proxy.url);
  return {
    host: via.hostname.replace(/^\[|\]$/g, ''),
    port: Number(via.port || 80),
    headers: proxy.credentials
      ? { 'proxy-authorization': `Basic ${Buffer.from(proxy.credentials, 'utf8').toString('base64')}` }
      : {},
  };
}

/** `no_proxy` entries: an exact host, a `.suffix` (or a bare domain, as curl reads it) and its subdomains. */
export function bypassesProxy(hostname: string, noProxy: ReadonlyArray<string>): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return noProxy.some((raw) => {
    const entry = raw.toLowerCase().replace(/^\[|\]$/g, '');
    if (isIP(host) || isIP(entry)) return host === entry;
    const domain = entry.replace(/^\./, '');
    return host === domain || host.endsWith(`.${domain}`);
  });
}

/** CONNECT, then TLS to the edge inside the tunnel (verified against the edge's own hostname). */
export const tunnelTls =
  (hop: ProxyHop, tls: TlsOptions): TlsConnector =>
  async (target) =>
    tlsTo(target, tls, await tunnel(hop, `${target.host}:${target.port}`));

function tunnel(hop: ProxyHop, authority: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const req = request({
      host: hop.host,
      port: hop.port,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...hop.headers },
      agent: false,
      timeout: CONNECT_TIMEOUT_MS,
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error('proxy CONNECT timed out'), { code: 'ETIMEDOUT' })));
    req.once('error', reject);
    req.once('connect', (res: IncomingMessage, socket: Socket) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        socket.destroy();
        reject(new ProxyRefusal(status));
        return;
      }
      req.setTimeout(0);
      resolve(socket);
    });
    req.end();
  });
}

/**
 * An absolute-form answer as the relay reads it: a plain-http proxy's 407 is the proxy's own word
 * whatever its body says (named so the log points at `edge.proxy_credentials`, not at the relay
 * key), and a status no edge sends is the proxy's too.
 */
export function screenAbsoluteForm(res: EdgeResponse): EdgeResponse {
  if (res.status === 407 || res.status < 200 || res.status > 599) return proxyAnswer(res.status);
  return res;
}

/** The proxy's own non-2xx: a 5xx stays an (unsigned) 5xx, anything else is a refusal. */
export function proxyAnswer(status: number): EdgeResponse {
  const headers = { 'x-duo-relay-proxy-status': String(status) };
  if (status >= 500 && status <= 599) return { status, header: headerOf(headers), body: new Uint8Array(0) };
  const code = status === 407 ? PROXY_AUTH_REQUIRED : PROXY_REFUSED;
  const body = utf8(JSON.stringify({ error: { code, message: `the outbound proxy answered HTTP ${status}` } }));
  return {
    status: status >= 400 && status <= 499 ? status : 403,
    header: headerOf({ ...headers, 'content-type': 'application/json' }),
    body,
  };
}
