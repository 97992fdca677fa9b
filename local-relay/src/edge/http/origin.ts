import type { TLSSocket } from 'node:tls';
import type { CallSignal } from '../deadline.ts';
import { ALPN_ANY, ALPN_H1, type TlsConnector } from './connect.ts';
import { type EdgeRequest, type EdgeResponse, NotSentError } from './exchange.ts';
import { H1Pool } from './h1-pool.ts';
import { H2Session, type StreamSink } from './h2-session.ts';

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

  /**
   * Not an async function: what a waiting push keeps on this origin is its stream's record
   * (StreamCall), not a suspended frame. The request stays in it for its one not-sent retry.
   */
  request(req: EdgeRequest, attempt = 0): Promise<EdgeResponse> {
    const ready = this.closed ? undefined : this.ready();
    if (ready) return this.send(ready, req, attempt);
    return this.route(req.signal).then(
      (route) => this.send(route, req, attempt),
      (error: unknown) => this.retry(error, req, attempt),
    );
  }

  private send(route: Route, req: EdgeRequest, attempt: number): Promise<EdgeResponse> {
    if (route.kind === 'h1') return route.pool.request(req).catch((error: unknown) => this.retry(error, req, attempt));
    return new Promise<EdgeResponse>((resolve) =>
      route.session.exchange(req, new StreamCall(this, route.session, req, attempt, resolve)),
    );
  }

  /** A call that never left the relay goes out once more, then fails (and the client fails over). */
  retry(error: unknown, req: EdgeRequest, attempt: number): Promise<EdgeResponse> {
    if (!(error instanceof NotSentError) || attempt >= NOT_SENT_RETRIES || req.signal.aborted) {
      return Promise.reject(error);
    }
    return this.request(req, attempt + 1);
  }

  /** A stream reserved by `ready` is over: its place goes to the next call waiting. */
  streamEnded(session: H2Session): void {
    session.open--;
    this.streams--;
    this.dispatch();
  }

  /** New calls are refused; calls under way finish on their connection, which then closes. */
  close(): void {
    this.closed = true;
    for (const s of this.sessions) s.close();
    this.pool?.close();
    for (const w of this.waiting.splice(0)) w.fail(new NotSentError('the edge URL is no longer configured'));
  }

  /** Waits for a route with room (`request` took one at once when there was). */
  private route(signal: CallSignal): Promise<Route> {
    if (this.closed) return Promise.reject(new NotSentError('the edge URL is no longer configured'));
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

/** One h2 call's end on its origin: the stream's place is freed, then the answer or the retry. */
class StreamCall implements StreamSink {
  private readonly origin: HttpsOrigin;
  private readonly session: H2Session;
  private readonly req: EdgeRequest;
  private readonly attempt: number;
  /** Settles the call: with the answer, or with the retry (which rejects when there is none). */
  private readonly resolve: (res: EdgeResponse | Promise<EdgeResponse>) => void;

  constructor(
    origin: HttpsOrigin,
    session: H2Session,
    req: EdgeRequest,
    attempt: number,
    resolve: (res: EdgeResponse | Promise<EdgeResponse>) => void,
  ) {
    this.origin = origin;
    this.session = session;
    this.req = req;
    this.attempt = attempt;
    this.resolve = resolve;
  }

  answered(res: EdgeResponse): void {
    this.origin.streamEnded(this.session);
    this.resolve(res);
  }

  failed(error: unknown): void {
    this.origin.streamEnded(this.session);
    this.resolve(this.origin.retry(error, this.req, this.attempt));
  }
}
