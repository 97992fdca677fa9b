import type { TLSSocket } from 'node:tls';
import { ALPN_ANY, ALPN_H1, type TlsConnector } from './connect.ts';
import { type EdgeRequest, type EdgeResponse, NotSentError } from './exchange.ts';
import { H1Pool } from './h1-pool.ts';
import { H2Session } from './h2-session.ts';

/** A call that never left the relay goes out once more (on a fresh session), then fails over. */
const NOT_SENT_RETRIES = 1;

type Route = { kind: 'h2'; session: H2Session } | { kind: 'h1'; pool: H1Pool };

interface Waiter {
  go(route: Route): void;
  fail(error: unknown): void;
}

/**
 * One https edge origin. The protocol is whatever the server picks by ALPN on the first connection.
 *
 * h2: calls share one session; a waiting push holds a stream for as long as its human takes, so
 * when every session is at the server's SETTINGS_MAX_CONCURRENT_STREAMS another connection opens
 * (a public edge allows a few hundred streams per connection, a login storm needs thousands).
 * `maxStreams` bounds the streams open across them; calls past it wait their turn, never fail for
 * it. A lost or GOAWAY'd session takes no new calls; the next opens a fresh one.
 *
 * HTTP/1.1: a keep-alive pool whose first connection is the one the choice was made on.
 */
export class HttpsOrigin {
  private readonly target: { origin: string; host: string; port: number };
  private readonly connect: TlsConnector;
  private readonly maxStreams: number;
  /** Sessions whose SETTINGS arrived and which take new streams. */
  private readonly sessions = new Set<H2Session>();
  private pool: H1Pool | undefined;
  private opening = false;
  private readonly waiting: Waiter[] = [];
  private streams = 0;
  private closed = false;

  constructor(target: { origin: string; host: string; port: number }, connect: TlsConnector, maxStreams: number) {
    this.target = target;
    this.connect = connect;
    this.maxStreams = maxStreams;
  }

  async request(req: EdgeRequest): Promise<EdgeResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        const route = await this.route(req.signal);
        if (route.kind === 'h1') return await route.pool.request(req);
        try {
          return await route.session.exchange(req);
        } finally {
          route.session.open--;
          this.streams--;
          this.dispatch();
        }
      } catch (error) {
        if (!(error instanceof NotSentError) || attempt >= NOT_SENT_RETRIES || req.signal.aborted) throw error;
      }
    }
  }

  /** New calls are refused; calls under way finish on their connection, which then closes. */
  close(): void {
    this.closed = true;
    for (const s of this.sessions) s.close();
    this.pool?.close();
    for (const w of this.waiting.splice(0)) w.fail(new NotSentError('the edge URL is no longer configured'));
  }

  private route(signal: AbortSignal): Promise<Route> {
    if (this.closed) return Promise.reject(new NotSentError('the edge URL is no longer configured'));
    const ready = this.ready();
    if (ready) return Promise.resolve(ready);
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Route>((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        go: (route) => {
          signal.removeEventListener('abort', onAbort);
          resolve(route);
        },
        fail: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.grow();
    });
  }

  /** A route with room now (an h2 stream reserved), if there is one. */
  private ready(): Route | undefined {
    if (this.pool) return { kind: 'h1', pool: this.pool };
    if (this.streams >= this.maxStreams) return undefined;
    for (const session of this.sessions) {
      if (!session.hasRoom()) continue;
      session.open++;
      this.streams++;
      return { kind: 'h2', session };
    }
    return undefined;
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      const route = this.ready();
      if (!route) break;
      this.waiting.shift()!.go(route);
    }
    if (this.waiting.length > 0) this.grow();
  }

  /** Another connection, when no session has room and our own bound still has. */
  private grow(): void {
    if (this.opening || this.closed || this.pool || this.streams >= this.maxStreams) return;
    for (const s of this.sessions) if (s.hasRoom()) return;
    this.opening = true;
    this.open().then(
      () => {
        this.opening = false;
        this.dispatch();
      },
      (error: unknown) => {
        this.opening = false;
        // With no session at all the calls waiting cannot go anywhere: they fail with the reason
        // (refused, a certificate that does not verify, ...). Otherwise they wait for a free stream.
        if (this.sessions.size === 0) for (const w of this.waiting.splice(0)) w.fail(error);
      },
    );
  }

  private async open(): Promise<void> {
    const { host, port, origin } = this.target;
    const socket = await this.connect({ host, port, alpn: ALPN_ANY });
    if (this.closed) {
      socket.destroy();
      throw new NotSentError('the edge URL is no longer configured');
    }
    if (socket.alpnProtocol !== 'h2') {
      if (this.sessions.size > 0) {
        socket.destroy();
        throw new NotSentError('a further connection to an h2 edge did not speak h2');
      }
      this.pool = this.h1Pool(socket);
      return;
    }
    const session: H2Session = new H2Session({
      origin,
      socket,
      onRoom: () => this.dispatch(),
      onRetired: () => {
        // New calls go to another session; the streams still open finish on this one.
        this.sessions.delete(session);
        session.close();
        this.dispatch();
      },
    });
    await session.ready;
    if (session.usable && !this.closed) this.sessions.add(session);
    else session.close();
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
