import { type ClientHttp2Session, type ClientHttp2Stream, connect, constants } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { type EdgeRequest, type EdgeResponse, headerOf, NotSentError, RedirectError, ResetError, untilAborted } from './exchange.ts';
import { readCapped } from './read-capped.ts';

/** How often an idle or busy session proves the path still carries frames, and how long it may take. */
const PING_EVERY_MS = 30_000;
const PING_TIMEOUT_MS = 10_000;
/** nghttp2's per-session memory bound; a stream waiting on a push is small, thousands may wait. */
const MAX_SESSION_MEMORY_MB = 256;

export interface H2SessionOptions {
  origin: string;
  /** A TLS socket that negotiated h2 (direct, or inside a proxy tunnel). */
  socket: TLSSocket;
  /** Our own bound on open streams; the server's SETTINGS_MAX_CONCURRENT_STREAMS may be lower. */
  maxStreams: number;
  /** The session takes no new streams any more (GOAWAY, loss, close). */
  onRetired: () => void;
}

/**
 * One HTTP/2 session to an edge origin. Streams beyond the open-stream bound wait their turn (a
 * queue, never a failure); a lost or GOAWAY'd session hands the queued ones back unsent.
 */
export class H2Session {
  private readonly session: ClientHttp2Session;
  private readonly ready: Promise<void>;
  private open = 0;
  private readonly waiting: Array<{ go: () => void; fail: (e: Error) => void }> = [];
  private retired = false;
  /** From the server's GOAWAY: streams above it were never processed. */
  private lastStreamId: number | undefined;
  private readonly pinger: NodeJS.Timeout;

  private readonly o: H2SessionOptions;

  constructor(o: H2SessionOptions) {
    this.o = o;
    this.session = connect(o.origin, {
      createConnection: () => o.socket,
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
      settings: { enablePush: false },
    });
    // The server's SETTINGS (its stream limit among them) come first; no stream opens before them.
    this.ready = new Promise<void>((resolve, reject) => {
      this.session.once('remoteSettings', () => resolve());
      this.session.once('close', () => reject(new NotSentError('the session closed before its settings')));
    });
    this.ready.catch(() => {});
    this.session.on('error', () => {});
    // A server may raise its stream limit later: waiting calls go as soon as it does.
    this.session.on('remoteSettings', () => this.next());
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

  get usable(): boolean {
    return !this.retired;
  }

  /** No new streams; those open finish on this session, which closes after them. */
  close(): void {
    this.retire();
    if (!this.session.closed) this.session.close();
  }

  async exchange(req: EdgeRequest): Promise<EdgeResponse> {
    await untilAborted(this.ready, req.signal);
    await this.slot(req.signal);
    try {
      return await this.stream(req);
    } finally {
      this.open--;
      this.next();
    }
  }

  private stream(req: EdgeRequest): Promise<EdgeResponse> {
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
    return new Promise<EdgeResponse>((resolve, reject) => {
      const cancel = () => {
        if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
      };
      const onAbort = () => {
        cancel();
        reject(req.signal.reason);
      };
      if (req.signal.aborted) return onAbort();
      req.signal.addEventListener('abort', onAbort, { once: true });
      const failed = (error?: Error) => {
        req.signal.removeEventListener('abort', onAbort);
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
        readCapped(stream, header('content-length'), req.maxBytes(status), cancel)
          .then((body) => resolve({ status, header, body }), reject)
          .finally(() => req.signal.removeEventListener('abort', onAbort));
      });
      if (req.body) stream.end(req.body);
    });
  }

  /** RFC 9113 §8.7: a REFUSED_STREAM, or a stream above GOAWAY's last id, was never processed. */
  private unprocessed(stream: ClientHttp2Stream): boolean {
    if (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) return true;
    if (stream.id === undefined) return true;
    return this.lastStreamId !== undefined && stream.id > this.lastStreamId;
  }

  /** The open-stream bound: ours, or the server's when it is lower. */
  private limit(): number {
    return Math.min(this.o.maxStreams, this.session.remoteSettings.maxConcurrentStreams ?? Number.POSITIVE_INFINITY);
  }

  private slot(signal: AbortSignal): Promise<void> {
    if (this.retired) return Promise.reject(new NotSentError('the session is going away'));
    if (this.open < this.limit()) {
      this.open++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(entry);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal.reason);
      };
      const entry = {
        go: () => {
          signal.removeEventListener('abort', onAbort);
          this.open++;
          resolve();
        },
        fail: (e: Error) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private next(): void {
    while (!this.retired && this.waiting.length > 0 && this.open < this.limit()) this.waiting.shift()!.go();
  }

  private retire(): void {
    if (this.retired) return;
    this.retired = true;
    for (const w of this.waiting.splice(0)) w.fail(new NotSentError('the session went away while the call waited'));
    this.o.onRetired();
  }

  private ping(): void {
    if (this.session.closed || this.session.destroyed) return;
    const timer = setTimeout(() => {
      const error = Object.assign(new Error('no PING answer from the edge'), { code: 'ETIMEDOUT' });
      this.session.destroy(error);
    }, PING_TIMEOUT_MS).unref();
    this.session.ping(() => clearTimeout(timer));
  }
}
