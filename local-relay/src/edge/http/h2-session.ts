import { type ClientHttp2Session, type ClientHttp2Stream, connect, constants } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { type EdgeRequest, type EdgeResponse, headerOf, NotSentError, RedirectError, ResetError } from './exchange.ts';
import { readCapped } from './read-capped.ts';

/** How often a session proves the path still carries frames, and how long the answer may take. */
const PING_EVERY_MS = 30_000;
const PING_TIMEOUT_MS = 20_000;
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
    this.pinger = setInterval(() => this.ping(), PING_EVERY_MS).unref();
  }

  /** Takes a new stream now: usable, and below the server's limit. */
  hasRoom(): boolean {
    const limit = this.session.remoteSettings.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
    return !this.retired && this.open < limit;
  }

  get usable(): boolean {
    return !this.retired;
  }

  /** No new streams; those open finish on this session, which closes after them. */
  close(): void {
    this.retire();
    if (!this.session.closed) this.session.close();
  }

  /**
   * One request on a stream the caller reserved (`open` counted it). The body goes out before any
   * listener is set up, so what a waiting stream's closures keep is the signal and the body cap,
   * never the request (its URL, body and signed headers).
   */
  exchange(req: EdgeRequest): Promise<EdgeResponse> {
    if (this.retired) return Promise.reject(new NotSentError('the session is going away'));
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
      return Promise.reject(new NotSentError('the session cannot open a stream', { cause: error }));
    }
    if (req.body && !req.signal.aborted) stream.end(req.body);
    return this.answer(stream, req.signal, req.maxBytes);
  }

  private answer(
    stream: ClientHttp2Stream,
    signal: AbortSignal,
    maxBytes: EdgeRequest['maxBytes'],
  ): Promise<EdgeResponse> {
    return new Promise<EdgeResponse>((resolve, reject) => {
      const cancel = () => {
        if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
      };
      const onAbort = () => {
        cancel();
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const failed = (error: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(this.unprocessed(stream) ? new NotSentError('the server refused the stream', { cause: error }) : error);
      };
      const onError = (error: Error) => failed(error);
      const onClose = () => failed(new ResetError('the stream closed before an answer'));
      stream.once('error', onError);
      stream.once('close', onClose);
      stream.once('response', (headers) => {
        stream.off('error', onError);
        stream.off('close', onClose);
        const status = Number(headers[':status']);
        if (status >= 300 && status <= 399) {
          cancel();
          return failed(new RedirectError(status));
        }
        const header = headerOf(headers);
        readCapped(stream, header('content-length'), maxBytes(status), cancel)
          .then((body) => resolve({ status, header, body }), reject)
          .finally(() => signal.removeEventListener('abort', onAbort));
      });
    });
  }

  /** RFC 9113 §8.7: a REFUSED_STREAM, or a stream above GOAWAY's last id, was never processed. */
  private unprocessed(stream: ClientHttp2Stream): boolean {
    if (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) return true;
    if (stream.id === undefined) return true;
    return this.lastStreamId !== undefined && stream.id > this.lastStreamId;
  }

  private retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.o.onRetired();
  }

  private ping(): void {
    if (this.session.closed || this.session.destroyed) return;
    let answered = false;
    // Checked after pending I/O is read (setImmediate), so a relay that was itself too busy to read
    // the answer in time does not drop a connection that many waiting pushes ride on.
    const timer = setTimeout(() => setImmediate(() => answered || this.session.destroy()), PING_TIMEOUT_MS).unref();
    this.session.ping(() => {
      answered = true;
      clearTimeout(timer);
    });
  }
}
