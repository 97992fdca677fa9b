import type { TLSSocket } from 'node:tls';
import { ALPN_ANY, ALPN_H1, type TlsConnector } from './connect.ts';
import { type EdgeRequest, type EdgeResponse, NotSentError, untilAborted } from './exchange.ts';
import { H1Pool } from './h1-pool.ts';
import { H2Session } from './h2-session.ts';

/** A call that never left the relay goes out once more on a fresh connection, then fails over. */
const NOT_SENT_RETRIES = 1;

type Route = { kind: 'h2'; session: H2Session } | { kind: 'h1'; pool: H1Pool };

/**
 * One https edge origin: the protocol is whatever the server picks by ALPN on the first
 * connection. h2: one session at a time (a new one once it is lost or told to go away); HTTP/1.1:
 * a keep-alive pool whose first connection is the one the choice was made on.
 */
export class HttpsOrigin {
  private session: H2Session | undefined;
  private pool: H1Pool | undefined;
  private opening: Promise<Route> | undefined;
  private closed = false;

  private readonly target: { origin: string; host: string; port: number };
  private readonly connect: TlsConnector;
  private readonly maxStreams: number;

  constructor(target: { origin: string; host: string; port: number }, connect: TlsConnector, maxStreams: number) {
    this.target = target;
    this.connect = connect;
    this.maxStreams = maxStreams;
  }

  async request(req: EdgeRequest): Promise<EdgeResponse> {
    for (let attempt = 0; ; attempt++) {
      const route = await untilAborted(this.route(), req.signal);
      try {
        return route.kind === 'h2' ? await route.session.exchange(req) : await route.pool.request(req);
      } catch (error) {
        if (!(error instanceof NotSentError) || attempt >= NOT_SENT_RETRIES || req.signal.aborted) throw error;
      }
    }
  }

  /** New calls are refused; calls under way finish on their connection, which then closes. */
  close(): void {
    this.closed = true;
    this.session?.close();
    this.pool?.close();
  }

  private route(): Promise<Route> {
    if (this.closed) return Promise.reject(new NotSentError('the edge URL is no longer configured'));
    if (this.pool) return Promise.resolve({ kind: 'h1', pool: this.pool });
    if (this.session?.usable) return Promise.resolve({ kind: 'h2', session: this.session });
    this.opening ??= this.open().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async open(): Promise<Route> {
    const { host, port, origin } = this.target;
    const socket = await this.connect({ host, port, alpn: ALPN_ANY });
    if (this.closed) {
      socket.destroy();
      throw new NotSentError('the edge URL is no longer configured');
    }
    if (socket.alpnProtocol !== 'h2') {
      this.pool = this.h1Pool(socket);
      return { kind: 'h1', pool: this.pool };
    }
    const session: H2Session = new H2Session({
      origin,
      socket,
      maxStreams: this.maxStreams,
      onRetired: () => {
        // New calls go to a fresh session; the streams still open finish on this one.
        if (this.session === session) this.session = undefined;
        session.close();
      },
    });
    this.session = session;
    return { kind: 'h2', session };
  }

  /** The connection ALPN was chosen on serves the first call; later ones offer only HTTP/1.1. */
  private h1Pool(first: TLSSocket): H1Pool {
    let spare: TLSSocket | undefined = first;
    const { host, port } = this.target;
    return new H1Pool({
      host,
      port,
      connect: (done) => {
        const s = spare;
        spare = undefined;
        if (s && !s.destroyed) return done(null, s);
        this.connect({ host, port, alpn: ALPN_H1 }).then(
          (socket) => done(null, socket),
          (error: Error) => done(error),
        );
      },
    });
  }
}
