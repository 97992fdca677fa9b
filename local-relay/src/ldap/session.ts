import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { type BindContext, handleBind, newBindState } from './bind.ts';
import { MessageFramer } from './framing.ts';
import {
  decodeEnvelope,
  encodeExtendedResponse,
  encodeNoticeOfDisconnection,
  extendedRequestName,
  OP,
  RESULT,
  STARTTLS_OID,
} from './message.ts';
import type { UpstreamSocket } from './upstream.ts';

/**
 * One application connection and its own upstream connection. Requests are handled in order:
 * everything but a BindRequest (and a StartTLS, which the relay answers for its own listener) is
 * written upstream as it arrived; responses flow back as they arrived, except the answer to a bind
 * the relay is making. Both directions keep backpressure: a side that cannot keep up pauses the
 * other, so a large search streams through and is never held whole.
 */

export type LdapEvent =
  | 'connections'
  | 'malformed_request'
  | 'malformed_response'
  | 'idle_timeout'
  | 'upstream_unreachable'
  | 'starttls';

export interface SessionOptions {
  clientAddress: string;
  /** For StartTLS on a plain listener; undefined: StartTLS is refused. */
  startTls?: SecureContext;
  openUpstream(): Promise<{ socket: UpstreamSocket } | { error: string }>;
  /** The upstream's answer to a bind the relay makes, within this. */
  upstreamTimeoutMs: number;
  idleTimeoutMs: number;
  maxRequestBytes: number;
  maxResponseBytes: number;
  maxDepth: number;
  allowSearchesAfterBind: boolean;
  bind: Omit<BindContext, 'exchange' | 'clientAddress'>;
  count(event: LdapEvent): void;
  logger: Logger;
  onClose(): void;
}

const END_GRACE_MS = 5_000;

interface Waiter {
  resolve(frame: Uint8Array): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class ProxySession {
  readonly #o: SessionOptions;
  #client: Socket;
  #upstream: UpstreamSocket | undefined;
  readonly #clientFramer: MessageFramer;
  readonly #upstreamFramer: MessageFramer;
  readonly #queue: Uint8Array[] = [];
  readonly #waiters = new Map<number, Waiter>();
  readonly #clientPausedBy = new Set<'request' | 'upstream_full'>();
  readonly #bindState = newBindState();
  #busy = false;
  #closed = false;

  constructor(client: Socket, opts: SessionOptions) {
    this.#o = opts;
    this.#client = client;
    this.#clientFramer = new MessageFramer(opts.maxRequestBytes);
    this.#upstreamFramer = new MessageFramer(opts.maxResponseBytes);
  }

  async start(): Promise<void> {
    this.#o.count('connections');
    this.#attachClient(this.#client);
    const opened = await this.#o.openUpstream();
    if ('error' in opened) {
      this.#o.count('upstream_unreachable');
      this.#o.logger.warn({ client: this.#o.clientAddress, err: opened.error }, 'LDAP upstream unreachable');
      this.#client.write(encodeNoticeOfDisconnection(RESULT.unavailable, 'directory unreachable'));
      this.#close('end');
      return;
    }
    if (this.#closed) {
      opened.socket.destroy();
      return;
    }
    const up = opened.socket;
    this.#upstream = up;
    up.on('data', (chunk: Buffer) => this.#onUpstreamData(chunk));
    up.on('error', () => this.#close('destroy'));
    up.on('close', () => this.#close('end'));
    void this.#pump();
  }

  #attachClient(socket: Socket): void {
    socket.setTimeout(this.#o.idleTimeoutMs, () => {
      this.#o.count('idle_timeout');
      this.#close('destroy');
    });
    socket.on('data', this.#onClientData);
    socket.on('error', this.#onClientGone);
    socket.on('close', this.#onClientGone);
  }

  readonly #onClientGone = () => this.#close('destroy');

  readonly #onClientData = (chunk: Buffer) => {
    const frames = this.#clientFramer.push(chunk);
    if (!frames.ok) return this.#malformed('request', frames.error);
    this.#queue.push(...frames.value);
    void this.#pump();
  };

  async #pump(): Promise<void> {
    if (this.#busy || !this.#upstream) return;
    this.#busy = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) await this.#handleRequest(this.#queue.shift()!);
    } finally {
      this.#busy = false;
    }
  }

  async #handleRequest(frame: Uint8Array): Promise<void> {
    const env = decodeEnvelope(frame, this.#o.maxDepth);
    if (!env.ok) return this.#malformed('request', env.error);
    const { opTag, messageId } = env.value;
    if (opTag === OP.bindRequest) {
      this.#pauseClient('request');
      const result = await handleBind(frame, env.value, this.#bindState, {
        ...this.#o.bind,
        clientAddress: this.#o.clientAddress,
        exchange: (f, id) => this.#exchange(f, id),
      });
      if (this.#closed) return;
      if (result.kind === 'malformed') return this.#malformed('request', 'bad BindRequest');
      this.#client.write(result.frame);
      if (result.kind === 'upstream_failed' || result.close) return this.#close('end');
      this.#resumeClient('request');
      return;
    }
    if (opTag === OP.extendedRequest) {
      const name = extendedRequestName(frame, env.value);
      if (!name.ok) return this.#malformed('request', name.error);
      if (name.value === STARTTLS_OID) return this.#startTls(messageId);
    }
    if (
      this.#bindState.duoBound &&
      !this.#o.allowSearchesAfterBind &&
      opTag !== OP.unbindRequest &&
      opTag !== OP.abandonRequest
    ) {
      // allow_searches_after_bind = false: a Duo-verified bind is all this connection is for.
      return this.#close('end');
    }
    if (!this.#upstream!.write(frame)) {
      this.#pauseClient('upstream_full');
      this.#upstream!.once('drain', () => this.#resumeClient('upstream_full'));
    }
    if (opTag === OP.unbindRequest) this.#close('end');
  }

  /** The application upgrades its own connection; the upstream keeps its configured transport. */
  #startTls(messageId: number): void {
    const context = this.#o.startTls;
    const raw = this.#client;
    if (!context || raw instanceof TLSSocket) {
      const why = context ? 'TLS is already established' : 'StartTLS is not configured on this listener';
      this.#client.write(encodeExtendedResponse(messageId, RESULT.protocolError, why));
      return;
    }
    // The client must wait for this answer before starting the handshake: nothing may be pending.
    if (this.#queue.length > 0 || this.#clientFramer.buffered > 0) {
      this.#malformed('request', 'data after StartTLS');
      return;
    }
    this.#o.count('starttls');
    raw.off('data', this.#onClientData);
    raw.off('error', this.#onClientGone);
    raw.off('close', this.#onClientGone);
    raw.setTimeout(0);
    raw.write(encodeExtendedResponse(messageId, RESULT.success, '', STARTTLS_OID));
    const secure = new TLSSocket(raw, { isServer: true, secureContext: context });
    this.#client = secure;
    this.#attachClient(secure);
  }

  /** Sends a request the relay makes (or forwards for a bind) and waits for its BindResponse. */
  #exchange(frame: Uint8Array, messageId: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      if (this.#closed || !this.#upstream) return reject(new Error('connection closed'));
      const timer = setTimeout(() => {
        this.#waiters.delete(messageId);
        reject(new Error(`directory did not answer within ${this.#o.upstreamTimeoutMs} ms`));
      }, this.#o.upstreamTimeoutMs);
      this.#waiters.set(messageId, { resolve, reject, timer });
      this.#upstream.write(frame);
    });
  }

  #onUpstreamData(chunk: Buffer): void {
    const frames = this.#upstreamFramer.push(chunk);
    if (!frames.ok) {
      this.#malformed('response', frames.error);
      return;
    }
    this.#client.cork();
    try {
      for (const frame of frames.value) {
        const env = decodeEnvelope(frame);
        if (!env.ok) {
          this.#malformed('response', env.error);
          return;
        }
        const waiter = this.#waiters.get(env.value.messageId);
        if (waiter && env.value.opTag === OP.bindResponse) {
          this.#waiters.delete(env.value.messageId);
          clearTimeout(waiter.timer);
          waiter.resolve(frame);
          continue;
        }
        if (!this.#client.write(frame) && !this.#upstream!.isPaused()) {
          this.#upstream!.pause();
          this.#client.once('drain', () => this.#upstream?.resume());
        }
      }
    } finally {
      this.#client.uncork();
    }
  }

  #pauseClient(reason: 'request' | 'upstream_full'): void {
    this.#clientPausedBy.add(reason);
    this.#client.pause();
  }

  #resumeClient(reason: 'request' | 'upstream_full'): void {
    this.#clientPausedBy.delete(reason);
    if (this.#clientPausedBy.size === 0 && !this.#closed) this.#client.resume();
  }

  #malformed(side: 'request' | 'response', why: string): void {
    this.#o.count(side === 'request' ? 'malformed_request' : 'malformed_response');
    this.#o.logger.info({ client: this.#o.clientAddress, side, why }, 'malformed LDAP message: connection closed');
    this.#close('destroy');
  }

  /** `end` lets what was written reach the peer; `destroy` drops both at once. Idempotent. */
  #close(how: 'end' | 'destroy'): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiters.values()) {
      clearTimeout(w.timer);
      w.reject(new Error('connection closed'));
    }
    this.#waiters.clear();
    for (const s of [this.#client, this.#upstream]) {
      if (!s) continue;
      if (how === 'destroy') s.destroy();
      else {
        s.end(() => s.destroy());
        // A peer that stops reading must not hold the socket open.
        setTimeout(() => s.destroy(), END_GRACE_MS).unref();
      }
    }
    this.#o.onClose();
  }
}
