import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  type IncomingHttpHeaders,
} from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { CallSignal } from '../deadline.ts';
import { type EdgeRequest, type EdgeResponse, headerOf, NotSentError, ResetError, redirectOf } from './exchange.ts';
import { CappedBody } from './read-capped.ts';

/** How often a session proves the path still carries frames, and how long the answer may take. */
export interface PingTiming {
  everyMs: number;
  timeoutMs: number;
}

export const PING_DEFAULTS: PingTiming = { everyMs: 30_000, timeoutMs: 20_000 };
/** nghttp2's per-session memory bound (MB); a stream waiting on a push is small, thousands may wait. */
const MAX_SESSION_MEMORY_MB = 256;

export interface H2SessionOptions {
  origin: string;
  /** A TLS socket that negotiated h2 (direct, or inside a proxy tunnel). */
  socket: TLSSocket;
  /** The server's SETTINGS arrived: streams may open (again, when it raised its limit). */
  onRoom: () => void;
  /** The session takes no new streams any more (GOAWAY, loss, close). */
  onRetired: () => void;
  /** Default PING_DEFAULTS; tests shorten it. */
  ping?: PingTiming;
}

/** How one stream's call ends: exactly one of the two, once. */
export interface StreamSink {
  answered(res: EdgeResponse): void;
  failed(error: unknown): void;
}

/**
 * One HTTP/2 session to an edge origin. It opens a stream only when its owner (origin.ts) has
 * reserved room for one under the server's SETTINGS_MAX_CONCURRENT_STREAMS.
 */
export class H2Session {
  private readonly o: H2SessionOptions;
  private readonly session: ClientHttp2Session;
  /** Resolves once the server's SETTINGS (its stream limit among them) arrived. */
  readonly ready: Promise<void>;
  /** Streams reserved or open. */
  open = 0;
  /** An answer arrived on this session (origin.ts marks it). */
  served = false;
  /** Streams that went out on this session. */
  private sent = 0;
  private retired = false;
  /** From the server's GOAWAY: streams above it were never processed. */
  private lastStreamId: number | undefined;
  private readonly pinger: NodeJS.Timeout;

  constructor(o: H2SessionOptions) {
    this.o = o;
    this.session = connect(o.origin, {
      createConnection: () => o.socket,
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
      settings: { enablePush: false },
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.session.once('remoteSettings', () => resolve());
      this.session.once('close', () => reject(new NotSentError('the session closed before its settings')));
    });
    this.ready.catch(() => {});
    // Errors reach the streams that were open; a session or socket error alone has nobody to tell.
    this.session.on('error', () => {});
    o.socket.on('error', () => {});
    this.session.on('remoteSettings', () => o.onRoom());
    this.session.on('goaway', (_code: number, lastStreamId: number) => {
      this.lastStreamId = lastStreamId;
      this.retire();
    });
    this.session.once('close', () => {
      clearInterval(this.pinger);
      this.retire();
    });
    const ping = o.ping ?? PING_DEFAULTS;
    this.pinger = setInterval(() => this.ping(ping.timeoutMs), ping.everyMs).unref();
  }

  /** Takes a new stream now: usable, and below the server's limit. */
  hasRoom(): boolean {
    const limit = this.session.remoteSettings.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
    return this.usable && this.open < limit;
  }

  /** Destroyed counts at once: its 'close', which retires it, comes a few ticks later. */
  get usable(): boolean {
    return !this.retired && !this.session.destroyed;
  }

  /**
   * The server took a stream of ours: one went out and no GOAWAY said it processed none (a GOAWAY
   * whose last stream id is 0). A session retired without carrying one is churn, not a normal loss.
   */
  get carried(): boolean {
    return this.sent > 0 && (this.lastStreamId ?? 1) > 0;
  }

  /** No new streams; those open finish on this session, which closes after them. */
  close(): void {
    this.retire();
    if (!this.session.closed) this.session.close();
  }

  /**
   * One request on a stream the caller reserved (`open` counted it); `sink` hears how it ends, once.
   * The body goes out before the stream's record is made, so what a waiting stream keeps is the
   * signal, the body cap and the sink, never the request's body or signed headers.
   */
  exchange(req: EdgeRequest, sink: StreamSink): void {
    if (!this.usable) {
      sink.failed(new NotSentError('the session is going away'));
      return;
    }
    let stream: ClientHttp2Stream;
    try {
      stream = this.session.request(
        {
          ':method': req.method,
          ':path': `${req.url.pathname}${req.url.search}`,
          ...req.headers,
          ...(req.body ? { 'content-length': String(req.body.byteLength) } : {}),
        },
        { endStream: !req.body },
      );
    } catch (error) {
      sink.failed(new NotSentError('the session cannot open a stream', { cause: error }));
      return;
    }
    this.sent++;
    if (req.body && !req.signal.aborted) stream.end(req.body);
    new StreamAnswer(this, stream, req.signal, req.maxBytes, sink);
  }

  /** RFC 9113 §8.7: a REFUSED_STREAM, or a stream above GOAWAY's last id, was never processed. */
  unprocessed(stream: ClientHttp2Stream): boolean {
    if (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) return true;
    if (stream.id === undefined) return true;
    return this.lastStreamId !== undefined && stream.id > this.lastStreamId;
  }

  private retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.o.onRetired();
  }

  private ping(timeoutMs: number): void {
    if (this.session.closed || this.session.destroyed) return;
    let answered = false;
    // Checked after pending I/O is read (setImmediate), so a relay that was itself too busy to read
    // the answer in time does not drop a connection that many waiting pushes ride on.
    const timer = setTimeout(() => setImmediate(() => answered || this.session.destroy()), timeoutMs).unref();
    this.session.ping(() => {
      answered = true;
      clearTimeout(timer);
    });
  }
}

/**
 * One stream's wait for its answer, a push's for minutes: this record and its four listeners
 * (arrow fields sharing one context) are all a waiting stream costs here. Listeners are removed by
 * hand rather than added with `once`, which would wrap each in a closure and a state object.
 */
class StreamAnswer {
  private readonly session: H2Session;
  private readonly stream: ClientHttp2Stream;
  private readonly signal: CallSignal;
  private readonly maxBytes: EdgeRequest['maxBytes'];
  private readonly sink: StreamSink;
  private settled = false;
  /** From the answer's headers on: its status, headers and the body read so far. */
  private answer: { status: number; header: EdgeResponse['header']; body: CappedBody } | undefined;

  constructor(
    session: H2Session,
    stream: ClientHttp2Stream,
    signal: CallSignal,
    maxBytes: EdgeRequest['maxBytes'],
    sink: StreamSink,
  ) {
    this.session = session;
    this.stream = stream;
    this.signal = signal;
    this.maxBytes = maxBytes;
    this.sink = sink;
    if (signal.aborted) {
      this.onAbort();
      return;
    }
    signal.addEventListener('abort', this.onAbort);
    stream.on('error', this.onError);
    stream.on('close', this.onClose);
    stream.on('response', this.onResponse);
  }

  private cancel(): void {
    if (!this.stream.closed) this.stream.close(constants.NGHTTP2_CANCEL);
  }

  private readonly onAbort = (): void => {
    this.cancel();
    this.settle(undefined, this.signal.reason);
  };

  /** Before the answer's headers, a stream never processed is a not-sent call, retried by the origin. */
  private readonly onError = (error: Error): void => {
    this.settle(
      undefined,
      !this.answer && this.session.unprocessed(this.stream)
        ? new NotSentError('the server refused the stream', { cause: error })
        : error,
    );
  };

  private readonly onClose = (): void =>
    this.onError(
      new ResetError(this.answer ? 'the answer was cut off before its end' : 'the stream closed before an answer'),
    );

  private readonly onResponse = (headers: IncomingHttpHeaders): void => {
    this.stream.off('response', this.onResponse);
    const status = Number(headers[':status']);
    const redirect = redirectOf(status);
    if (redirect) {
      this.cancel();
      this.onError(redirect);
      return;
    }
    const header = headerOf(headers);
    const limit = this.maxBytes(status);
    if (CappedBody.declaredOver(header('content-length'), limit)) {
      this.cancel();
      this.settle({ status, header, body: 'too_large' });
      return;
    }
    // The body is read into this record by two listeners bound only now: a burst of answers costs
    // no promise and no closures of a reader per stream. Error and close stay on until the end.
    this.answer = { status, header, body: new CappedBody(limit) };
    this.stream.on('data', this.onData.bind(this));
    this.stream.on('end', this.onEnd.bind(this));
  };

  private onData(chunk: Buffer): void {
    const a = this.answer!;
    if (this.settled || a.body.add(chunk)) return;
    this.cancel();
    this.settle({ status: a.status, header: a.header, body: 'too_large' });
  }

  private onEnd(): void {
    const a = this.answer!;
    this.settle({ status: a.status, header: a.header, body: a.body.bytes() });
  }

  private settle(res: EdgeResponse | undefined, error?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.signal.removeEventListener('abort', this.onAbort);
    if (res) this.sink.answered(res);
    else this.sink.failed(error);
  }
}
