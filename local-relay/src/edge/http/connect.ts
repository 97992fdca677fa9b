import { isIP, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';

/** A connection set up this long without TLS done is dead; calls waiting on it fail with it. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** ALPN offers: h2 first (Cloudflare's edge speaks it), HTTP/1.1 for servers that do not. */
export const ALPN_ANY = ['h2', 'http/1.1'];
export const ALPN_H1 = ['http/1.1'];

export interface TlsTarget {
  host: string;
  port: number;
  alpn: string[];
}

/**
 * Opens a TLS connection to an https edge origin, verified against the edge's own host name:
 * directly, or inside a proxy tunnel (edge/proxy.ts).
 */
export type TlsConnector = (target: TlsTarget) => Promise<TLSSocket>;

export interface TlsOptions {
  /** Trust only these CAs (tests); default Node's roots plus NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer;
}

/** TLS over `socket` (a proxy tunnel) or a new TCP connection; resolves once the handshake verified. */
export function tlsTo(target: TlsTarget, tls: TlsOptions, socket?: Socket): Promise<TLSSocket> {
  const bare = target.host.replace(/^\[|\]$/g, '');
  return new Promise<TLSSocket>((resolve, reject) => {
    const s = tlsConnect({
      ...(socket ? { socket } : { host: bare, port: target.port }),
      ...(isIP(bare) ? {} : { servername: bare }),
      ALPNProtocols: target.alpn,
      ...(tls.ca ? { ca: tls.ca } : {}),
    });
    const timer = setTimeout(() => {
      s.destroy(Object.assign(new Error('TLS connect timed out'), { code: 'ETIMEDOUT' }));
    }, CONNECT_TIMEOUT_MS).unref();
    s.once('secureConnect', () => {
      clearTimeout(timer);
      s.removeListener('error', failed);
      resolve(s);
    });
    const failed = (error: Error) => {
      clearTimeout(timer);
      socket?.destroy();
      reject(error);
    };
    s.once('error', failed);
  });
}

export const directTls =
  (tls: TlsOptions): TlsConnector =>
  (target) =>
    tlsTo(target, tls);
