import {
  bypassesProxy,
  type EdgeProxy,
  ProxyRefusal,
  proxyAnswer,
  proxyHopOf,
  screenAbsoluteForm,
  tunnelTls,
} from '../proxy.ts';
import { directTls, type TlsOptions } from './connect.ts';
import type { EdgeRequest, EdgeResponse, EdgeTransport } from './exchange.ts';
import { H1Pool } from './h1-pool.ts';
import type { PingTiming } from './h2-session.ts';
import { HttpsOrigin } from './origin.ts';

export interface EdgeTransportOptions {
  /** `[edge] proxy`: every edge host not in its no_proxy list is reached through it. */
  proxy?: EdgeProxy;
  /** `[edge] max_streams`: calls open at once on one h2 session; more wait their turn. */
  maxStreams: number;
  tls?: TlsOptions;
  /** The h2 sessions' PING interval and answer timeout: not configurable, tests shorten them. */
  ping?: PingTiming;
}

interface Origin {
  request(req: EdgeRequest): Promise<EdgeResponse>;
  close(): void;
}

/**
 * The relay's only way to the edge: per edge URL origin, one HTTP/2 session (https whose server
 * offers h2) or a keep-alive HTTP/1.1 pool (https without h2, plain http on loopback), directly
 * or through the outbound proxy. Never the global fetch: it holds a socket and tens of KiB per call.
 */
export function createEdgeTransport(o: EdgeTransportOptions): EdgeTransport {
  const tls = o.tls ?? {};
  const hop = o.proxy ? proxyHopOf(o.proxy) : undefined;
  const origins = new Map<string, Origin>();

  function make(url: URL): Origin {
    const proxied = hop && o.proxy && !bypassesProxy(url.hostname, o.proxy.noProxy) ? hop : undefined;
    if (url.protocol === 'https:') {
      const target = { origin: url.origin, host: url.hostname, port: Number(url.port || 443) };
      const options = { maxStreams: o.maxStreams, ...(o.ping ? { ping: o.ping } : {}) };
      if (!proxied) return new HttpsOrigin(target, directTls(tls), options);
      const tunnelled = new HttpsOrigin(target, tunnelTls(proxied, tls), options);
      return { request: (req) => tunnelled.request(req).catch(proxyRefusalAnswer), close: () => tunnelled.close() };
    }
    if (!proxied) return new H1Pool({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) });
    const pool = new H1Pool({ host: proxied.host, port: proxied.port, absoluteForm: { headers: proxied.headers } });
    return { request: (req) => pool.request(req).then(screenAbsoluteForm), close: () => pool.close() };
  }

  return {
    // Not an async function, and no promise of its own: a waiting push keeps only the origin's.
    // Only a tunnel through the proxy can meet the proxy's refusal: `make` answers for it there.
    request(req) {
      let origin = origins.get(req.url.origin);
      if (!origin) {
        origin = make(req.url);
        origins.set(req.url.origin, origin);
      }
      return origin.request(req);
    },
    retain(urls) {
      const keep = new Set(urls.map((u) => new URL(u).origin));
      for (const [key, origin] of origins) {
        if (keep.has(key)) continue;
        origin.close();
        origins.delete(key);
      }
    },
    async close() {
      for (const origin of origins.values()) origin.close();
      origins.clear();
    },
  };
}

function proxyRefusalAnswer(error: unknown): EdgeResponse {
  if (error instanceof ProxyRefusal) return proxyAnswer(error.status);
  throw error;
}
