import { isIP } from 'node:net';
import { z } from 'zod';
import type { EdgeTransport } from '../edge/http/exchange.ts';
import { createEdgeTransport } from '../edge/http/transport.ts';
import { bypassesProxy, type EdgeProxy } from '../edge/proxy.ts';
import { type SecretContext, secretRef } from './secret-ref.ts';

/** `http://host:port` and nothing else: credentials come from `proxy_credentials`, never the URL. */
function isProxyUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (
    url.protocol === 'http:' &&
    !url.username &&
    !url.password &&
    (url.pathname === '/' || url.pathname === '') &&
    !url.search &&
    !url.hash &&
    url.port !== ''
  );
}

const noProxyEntry = z
  .string()
  .refine(
    (v) => isIP(v.replace(/^\[|\]$/g, '')) !== 0 || /^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(v),
    'must be a host name, a .domain suffix or an IP address',
  );

/** The `[edge]` keys of the outbound proxy (edge/proxy.ts). */
export function edgeProxyKeys(ctx: SecretContext) {
  return {
    /** Every call to the edge goes through this HTTP proxy (CONNECT for https). */
    proxy: z.string().refine(isProxyUrl, 'must be "http://host:port" (credentials go in proxy_credentials)').optional(),
    /** `user:password` for the proxy (Basic), as a secret reference; never logged. */
    proxy_credentials: secretRef(ctx)
      .refine((v) => /^[^:]+:.+$/s.test(v), 'must be "user:password"')
      .optional(),
    /** Edge hosts reached without the proxy. */
    no_proxy: z.array(noProxyEntry).default([]),
  };
}

type ProxyKeys = { proxy?: string | undefined; proxy_credentials?: string | undefined; no_proxy: string[] };

/** Credentials or a no_proxy list without a proxy are a mistake worth stopping for. */
export function proxyKeyIssue(e: ProxyKeys): { path: string; message: string } | undefined {
  if (e.proxy !== undefined) return undefined;
  if (e.proxy_credentials !== undefined) return { path: 'proxy_credentials', message: 'set only with edge.proxy' };
  if (e.no_proxy.length > 0) return { path: 'no_proxy', message: 'set only with edge.proxy' };
  return undefined;
}

export function edgeProxyOf(e: ProxyKeys): EdgeProxy | undefined {
  if (e.proxy === undefined) return undefined;
  return {
    url: e.proxy,
    ...(e.proxy_credentials !== undefined ? { credentials: e.proxy_credentials } : {}),
    noProxy: e.no_proxy,
  };
}

/** The transport every edge call uses: through the proxy when `[edge] proxy` is set. */
export function edgeTransportOf(e: ProxyKeys & { max_streams: number }): EdgeTransport {
  const proxy = edgeProxyOf(e);
  return createEdgeTransport({ maxStreams: e.max_streams, ...(proxy ? { proxy } : {}) });
}

/** The hop for `duo-relay check`: where the proxy is and which edge URLs skip it; no secret. */
export function proxyHop(e: ProxyKeys, url: string): string {
  const proxy = edgeProxyOf(e);
  if (!proxy) return 'direct';
  if (bypassesProxy(new URL(url).hostname, proxy.noProxy)) return 'direct (edge.no_proxy)';
  const how = url.startsWith('https:') ? 'CONNECT' : 'absolute-form';
  return `via proxy ${proxy.url} (${how}${proxy.credentials ? ', with edge.proxy_credentials' : ''})`;
}
