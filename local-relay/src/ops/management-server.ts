import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIPv4, isIPv6 } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * The management HTTP port: Prometheus `/metrics`, liveness `/healthz`, readiness `/readyz`.
 * Plain node:http: three read-only routes do not need a framework, and fewer dependencies sit on
 * a port that tells an attacker how the relay is doing.
 */

export interface Readiness {
  ready: boolean;
  /** Why the relay is not ready (e.g. `udp socket not bound`); shown in the 503 body. */
  reason?: string;
}

export interface ManagementServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  registry: Registry;
  /** Sockets bound, and the edge reachable or failmode decisions possible. */
  ready: () => Readiness;
  /** Config `allow_remote`: binding to a non-loopback address must be asked for explicitly. */
  allowRemote?: boolean;
}

export interface ManagementServer {
  /** Base URL, e.g. `http://127.0.0.1:9812`. */
  url: string;
  close(): Promise<void>;
}

/** True for addresses that cannot be reached from another machine. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIPv4(host)) return host.startsWith('127.');
  if (isIPv6(host)) {
    const lower = host.toLowerCase();
    return lower === '::1' || lower.startsWith('::ffff:127.');
  }
  return false;
}

export async function startManagementServer(options: ManagementServerOptions): Promise<ManagementServer> {
  const { host, port, registry, ready, allowRemote = false } = options;
  if (!isLoopbackHost(host) && !allowRemote) {
    throw new Error(
      `management server: refusing to listen on non-loopback address ${host}; set allow_remote = true to expose metrics and health on the network`,
    );
  }

  const server = createServer((req, res) => {
    handle(req, res, registry, ready).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { status: 'error' });
      else res.destroy();
    });
  });
  // Slow or idle scrapers must not pin sockets on a long-running daemon.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive connections from a scraper would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

const ROUTES = new Set(['/metrics', '/healthz', '/readyz']);

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  registry: Registry,
  ready: () => Readiness,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://management.invalid').pathname;
  if (!ROUTES.has(path)) {
    sendJson(res, 404, { status: 'not_found' });
    return;
  }
  // HEAD is GET without a body (node:http drops it); every route is read-only.
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendJson(res, 405, { status: 'method_not_allowed' });
    return;
  }

  switch (path) {
    case '/metrics': {
      const body = await registry.metrics();
      res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
      res.end(body);
      return;
    }
    case '/healthz':
      // Answering at all proves the process is alive and its event loop turns.
      sendJson(res, 200, { status: 'ok' });
      return;
    case '/readyz': {
      const readiness = readinessOf(ready);
      if (readiness.ready) sendJson(res, 200, { status: 'ready' });
      else sendJson(res, 503, { status: 'not_ready', reason: readiness.reason ?? 'not ready' });
      return;
    }
  }
}

function readinessOf(ready: () => Readiness): Readiness {
  try {
    return ready();
  } catch {
    return { ready: false, reason: 'readiness check failed' };
  }
}

function sendJson(res: ServerResponse, status: number, body: Record<string, string>): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}
