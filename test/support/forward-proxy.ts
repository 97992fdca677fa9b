import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

/**
 * A small real HTTP forward proxy, as a corporate egress proxy behaves: absolute-form requests for
 * http:// and CONNECT tunnels for https://, optional Basic credentials (407 without them), and a
 * route table so a test can name an edge address that only exists behind the proxy.
 */
export interface ForwardProxy {
  url: string;
  port: number;
  /** Every request line the proxy took (`GET http://host/v1/site`, `CONNECT host:443`), in order. */
  seen: string[];
  /** The Proxy-Authorization values it saw, to prove what was (and was not) sent. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

export interface ForwardProxyOptions {
  /** `host:port` the client asks for → `host:port` the proxy really connects to. */
  routes?: Record<string, string>;
  /** `user:password`: requests without it get 407. */
  credentials?: string;
  /** Listen here (restart on the same port); default a free one. */
  port?: number;
}

export async function startForwardProxy(opts: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const seen: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const sockets = new Set<Socket>();
  const expected = opts.credentials ? `Basic ${Buffer.from(opts.credentials).toString('base64')}` : undefined;
  const route = (authority: string) => opts.routes?.[authority] ?? authority;
  const authorized = (req: IncomingMessage) => {
    const given = req.headers['proxy-authorization'];
    authorizations.push(given);
    return expected === undefined || given === expected;
  };

  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (!authorized(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="egress"' }).end('proxy authentication required');
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute-form request line required');
      return;
    }
    const [host, port] = splitAuthority(route(target.host));
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = request({ host, port, method: req.method, path: `${target.pathname}${target.search}`, headers });
    upstream.once('response', (up) => {
      res.writeHead(up.statusCode ?? 502, up.rawHeaders);
      up.pipe(res);
    });
    upstream.once('error', () => {
      if (!res.headersSent) res.writeHead(502).end('bad gateway');
      else res.destroy();
    });
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    if (!authorized(req)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="egress"\r\n\r\n');
      return;
    }
    const [host, port] = splitAuthority(route(req.url ?? ''));
    const upstream = connect(port, host);
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    client.once('error', () => upstream.destroy());
    client.once('close', () => upstream.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function splitAuthority(authority: string): [string, number] {
  const at = authority.lastIndexOf(':');
  return [authority.slice(0, at).replace(/^\[|\]$/g, ''), Number(authority.slice(at + 1))];
}
