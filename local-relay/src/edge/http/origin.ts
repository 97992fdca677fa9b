import type { TLSSocket } from 'node:tls';
import type { CallSignal } from '../deadline.ts';
import { ALPN_ANY, ALPN_H1, type TlsConnector } from './connect.ts';
import { type EdgeRequest, type EdgeResponse, NotSentError } from './exchange.ts';
import { H1Pool } from './h1-pool.ts';
import { H2Session, type PingTiming, type StreamSink } from './h2-session.ts';

/** A call that never left the relay goes out once more (on a fresh session), then fails over. */
const NOT_SENT_RETRIES = 1;
/** The pause before an open that follows a fruitless one; it doubles each time, up to the cap. */
const REOPEN_FIRST_MS = 100;
const REOPEN_MAX_MS = 5_000;

export interface HttpsOriginOptions {
  /** Streams open at once across this origin's sessions; more calls wait their turn. */
  maxStreams: number;
  /** Default PING_DEFAULTS (h2-session.ts); tests shorten it. */
  ping?: PingTiming;
}

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
 * A server that sends GOAWAY (or allows no stream) right after its SETTINGS on every connection
 * would have the calls waiting open connection after connection as fast as TLS goes: after a session
 * that carried no stream (or a further connection that failed) the next open waits 100 ms, doubling
 * up to 5 s, until a session serves one. The calls waiting keep waiting within their own deadline.
 * The first open, and a reconnect after a session that carried streams, do not wait.
 *
 * HTTP/1.1: a keep-alive pool whose first connection is the one the choice was made on.
 */
export class HttpsOrigin {
  private readonly target: { origin: string; host: string; port: number };
  private readonly connect: TlsConnector;
  private readonly maxStreams: number;
  private readonly ping: PingTiming | undefined;
  /** Sessions whose SETTINGS arrived and which take new streams. */
  private readonly sessions = new Set<H2Session>();
  private pool: H1Pool | undefined;
  private opening = false;
  private readonly waiting: Waiter[] = [];
  private streams = 0;
  private closed = false;
  /** The pause the last fruitless open set (0: none), when the next open may start, its timer. */
  private reopenDelayMs = 0;
  private reopenAt = 0;
  private reopenTimer: NodeJS.Timeout | undefined;

  constructor(target: { origin: string; host: string; port: number }, connect: TlsConnector, o: HttpsOriginOptions) {
    this.target = target;
    this.connect = connect;
    this.maxStreams = o.maxStreams;
    this.ping = o.ping;
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

  /** A session's first answer: opens that follow need not wait any more. */
  served(session: H2Session): void {
    if (session.served) return;
    session.served = true;
    this.reopenNow();
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
    clearTimeout(this.reopenTimer);
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

  /** Another connection, when no session has room and our own bound still has (after the pause, if one). */
  private grow(): void {
    if (this.opening || this.reopenTimer || this.closed || this.pool || this.streams >= this.maxStreams) return;
    for (const s of this.sessions) if (s.hasRoom()) return;
    const pause = this.reopenAt - Date.now();
    if (pause > 0) {
      this.reopenTimer = setTimeout(() => {
        this.reopenTimer = undefined;
        if (this.waiting.length > 0) this.grow();
      }, pause).unref();
      return;
    }
    this.opening = true;
    this.open().then(
      () => {
        this.opening = false;
        this.dispatch();
      },
      (error: unknown) => {
        this.opening = false;
        // With no session at all the calls waiting cannot go anywhere: they fail with the reason
        // (refused, a certificate that does not verify, ...), and the client tries the next URL.
        // Otherwise they wait for a free stream, or the next connection after the pause.
        if (this.sessions.size === 0) for (const w of this.waiting.splice(0)) w.fail(error);
        else this.dispatch();
      },
    );
  }

  private reopenNow(): void {
    this.reopenDelayMs = 0;
    this.reopenAt = 0;
  }

  /** An open that bore no stream: the next one waits, longer each time. */
  private fruitless(): void {
    this.reopenDelayMs = Math.min(this.reopenDelayMs * 2 || REOPEN_FIRST_MS, REOPEN_MAX_MS);
    this.reopenAt = Date.now() + this.reopenDelayMs;
  }

  private async open(): Promise<void> {
    const { host, port, origin } = this.target;
    const socket = await this.connect({ host, port, alpn: ALPN_ANY }).catch((error: unknown) => {
      // A further connection failing while others serve; alone, its calls fail at once instead.
      if (this.sessions.size > 0) this.fruitless();
      throw error;
    });
    if (this.closed) {
      socket.destroy();
      throw new NotSentError('the edge URL is no longer configured');
    }
    if (socket.alpnProtocol !== 'h2') {
      if (this.sessions.size > 0) {
        socket.destroy();
        this.fruitless();
        throw new NotSentError('a further connection to an h2 edge did not speak h2');
      }
      this.pool = this.h1Pool(socket);
      return;
    }
    /** Counted as fruitless when its SETTINGS allowed no stream: once is enough. */
    let barren = false;
    const session: H2Session = new H2Session({
      origin,
      socket,
      ...(this.ping ? { ping: this.ping } : {}),
      onRoom: () => this.dispatch(),
      onRetired: () => {
        // New calls go to another session; the streams still open finish on this one. A session
        // that carried streams was lost or drained: the next opens at once. One that carried none
        // was churn, and the next open waits.
        this.sessions.delete(session);
        session.close();
        if (session.carried) this.reopenNow();
        else if (!barren) this.fruitless();
        this.dispatch();
      },
    });
    await session.ready;
    if (!session.usable || this.closed) return session.close();
    this.sessions.add(session);
    // A server that allows no stream yet: another connection opened right now would be no better.
    if (!session.hasRoom()) {
      barren = true;
      this.fruitless();
    }
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
    this.origin.served(this.session);
    this.origin.streamEnded(this.session);
    this.resolve(res);
  }

  failed(error: unknown): void {
    this.origin.streamEnded(this.session);
    this.resolve(this.origin.retry(error, this.req, this.attempt));
  }
}
