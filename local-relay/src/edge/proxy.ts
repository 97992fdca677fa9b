import { type IncomingMessage, request } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';

/**
 * Every edge call through an outbound HTTP proxy: `CONNECT host:443` and TLS to the edge inside the
 * tunnel for https, the absolute-form request line for plain http (loopback edges only). The edge's
 * signatures are end to end, so the proxy can relay answers but never forge one.
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

export function proxiedFetch(proxy: EdgeProxy, direct: typeof fetch = fetch): typeof fetch {
  const via = new URL(proxy.url);
  const proxyHost = via.hostname.replace(/^\[|\]$/g, '');
  const proxyPort = Number(via.port || 80);
  const authorization = proxy.credentials
    ? `Basic ${Buffer.from(proxy.credentials, 'utf8').toString('base64')}`
    : undefined;
  return (input, init) => {
    const target = new URL(input instanceof Request ? input.url : String(input));
    if (bypassesProxy(target.hostname, proxy.noProxy)) return direct(input, init);
    const headers = new Headers(init?.headers);
    headers.set('host', target.host);
    const body = init?.body as Uint8Array | undefined;
    if (body) headers.set('content-length', String(body.byteLength));
    const signal = init?.signal ?? undefined;
    const send = (path: string, extra: Record<string, string>, createConnection?: () => Socket) =>
      exchange({
        host: proxyHost,
        port: proxyPort,
        method: init?.method ?? 'GET',
        path,
        headers: { ...Object.fromEntries(headers), ...extra },
        body,
        signal,
        createConnection,
      });
    if (target.protocol === 'http:') {
      return send(target.href, authorization ? { 'proxy-authorization': authorization } : {}).then(relabel);
    }
    return tunnel(proxyHost, proxyPort, target, authorization, signal).then((t) =>
      t.kind === 'refused' ? t.response : send(`${target.pathname}${target.search}`, {}, () => t.socket),
    );
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

type Tunnel = { kind: 'open'; socket: Socket } | { kind: 'refused'; response: Response };

/** CONNECT, then TLS to the edge inside the tunnel (verified against the edge's own hostname). */
function tunnel(
  host: string,
  port: number,
  target: URL,
  authorization: string | undefined,
  signal: AbortSignal | undefined,
): Promise<Tunnel> {
  const authority = `${target.hostname}:${target.port || 443}`;
  return new Promise<Tunnel>((resolve, reject) => {
    const req = request({
      host,
      port,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...(authorization ? { 'proxy-authorization': authorization } : {}) },
      ...(signal ? { signal } : {}),
      agent: false,
    });
    req.once('error', reject);
    req.once('connect', (res: IncomingMessage, socket: Socket) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        socket.destroy();
        resolve({ kind: 'refused', response: proxyAnswer(status) });
        return;
      }
      const servername = isIP(target.hostname.replace(/^\[|\]$/g, '')) ? undefined : target.hostname;
      const tls = tlsConnect({ socket, ...(servername ? { servername } : {}) });
      tls.once('secureConnect', () => {
        tls.removeListener('error', reject);
        resolve({ kind: 'open', socket: tls });
      });
      tls.once('error', reject);
    });
    req.end();
  });
}

interface Exchange {
  host: string;
  port: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array | undefined;
  signal: AbortSignal | undefined;
  createConnection: (() => Socket) | undefined;
}

/** One HTTP/1.1 request on its own connection; the answer as a fetch Response (body streamed). */
function exchange(x: Exchange): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const req = request(
      {
        host: x.host,
        port: x.port,
        method: x.method,
        path: x.path,
        headers: { ...x.headers, connection: 'close' },
        ...(x.signal ? { signal: x.signal } : {}),
        // Node uses createConnection only without an agent: the tunnel, else a fresh connection.
        ...(x.createConnection ? { createConnection: x.createConnection } : { agent: false }),
      },
      (res) => resolve(toResponse(res)),
    );
    req.once('error', reject);
    req.end(x.body);
  });
}

function toResponse(res: IncomingMessage): Response {
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    try {
      headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
    } catch {
      // A header fetch would not accept is not one the relay reads.
    }
  }
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 599) {
    res.destroy();
    return proxyAnswer(status);
  }
  const empty = status === 204 || status === 205 || status === 304;
  if (empty) res.resume();
  // node:stream/web and the global ReadableStream are one class at run time; only their typings differ.
  const body = empty ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
  return new Response(body, { status, headers });
}

/**
 * A plain-http proxy's 407 is the proxy's own word, whatever its body says: named so the log
 * points at `edge.proxy_credentials`, not at the relay key.
 */
function relabel(res: Response): Response {
  if (res.status !== 407) return res;
  void res.body?.cancel();
  return proxyAnswer(407);
}

/** The proxy's own non-2xx: a 5xx stays an (unsigned) 5xx, anything else is a refusal. */
function proxyAnswer(status: number): Response {
  if (status >= 500 && status <= 599) return new Response(null, { status });
  const code = status === 407 ? PROXY_AUTH_REQUIRED : PROXY_REFUSED;
  const refusal = status >= 400 && status <= 499 ? status : 403;
  return Response.json(
    { error: { code, message: `the outbound proxy answered HTTP ${status}` } },
    { status: refusal, headers: { 'x-duo-relay-proxy-status': String(status) } },
  );
}
