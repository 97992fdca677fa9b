import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { Logger } from 'pino';
import { signMessageAuthenticator } from '../radius/message-authenticator.ts';
import { type DecodedPacket, decodePacket, type EncodeError, type RadiusAttribute } from '../radius/packet.ts';
import { type ReplyCheckError, verifyReply } from '../radius/reply.ts';
import { encodeRequest } from '../radius/request.ts';
import type { RadiusEndpoint } from './radius-upstream-config.ts';

/**
 * The client side of RADIUS over UDP for the upstream primary, with Duo's `[radius_client]` retry
 * semantics: the first transmission goes to the first host; every `retryWaitMs` the same request is
 * re-sent to the NEXT host (cycling), up to `retries` re-sends; `retryWaitMs` after the last one the
 * exchange times out. Retransmissions carry the same Request Authenticator, so a reply to any of
 * them completes the exchange (RFC 2865 §2.5).
 *
 * Sockets are shared by all exchanges: one per address family, plus another whenever all 256
 * Identifiers of the existing ones are in flight (RFC 5080 §2.2.2: an Identifier is not reused
 * for a source port until its request is answered or has timed out).
 */

export interface TransportOptions {
  secret: Uint8Array;
  retries: number;
  retryWaitMs: number;
  requireMessageAuthenticator: boolean;
  logger: Logger;
}

export interface ExchangeRequest {
  /** Access-Request or Status-Server. */
  code: number;
  /** From `newRequestAuthenticator()`; a User-Password must already be hidden with it. */
  authenticator: Uint8Array;
  /** Everything but Message-Authenticator, which is added first and signed. */
  attributes: ReadonlyArray<RadiusAttribute>;
  /** Authentic replies with another code end the exchange as `unexpected_code`. */
  replyCodes: ReadonlyArray<number>;
  /** Overrides the transport's setting (RFC 5997 lets a Status-Server reply go unsigned). */
  requireMessageAuthenticator?: boolean;
}

export type ExchangeResult =
  | { kind: 'reply'; packet: DecodedPacket; from: RadiusEndpoint }
  | { kind: 'unexpected_code'; code: number; from: RadiusEndpoint }
  | { kind: 'timeout' }
  | { kind: 'aborted' }
  | { kind: 'encode_error'; error: EncodeError };

type Family = 4 | 6;

interface Waiter {
  onReply(packet: DecodedPacket, from: RemoteInfo): void;
}

class IdentifierSocket {
  readonly pending = new Map<number, Waiter>();
  #next = Math.floor(Math.random() * 256);

  readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  get full(): boolean {
    return this.pending.size >= 256;
  }

  /** Rotates through the Identifier space so a late reply rarely meets a reused Identifier. */
  allocate(waiter: Waiter): number {
    for (let i = 0; i < 256; i++) {
      const id = (this.#next + i) & 0xff;
      if (!this.pending.has(id)) {
        this.#next = (id + 1) & 0xff;
        this.pending.set(id, waiter);
        return id;
      }
    }
    throw new Error('no free RADIUS identifier');
  }
}

export class RadiusTransport {
  readonly #opts: TransportOptions;
  readonly #sockets: Record<Family, IdentifierSocket[]> = { 4: [], 6: [] };
  readonly #opening = new Map<Family, Promise<IdentifierSocket>>();
  readonly #live = new Set<() => void>();
  #closed = false;

  constructor(opts: TransportOptions) {
    this.#opts = opts;
  }

  exchange(
    endpoints: ReadonlyArray<RadiusEndpoint>,
    request: ExchangeRequest,
    signal?: AbortSignal,
  ): Promise<ExchangeResult> {
    const encoded = encodeRequest(
      { code: request.code, identifier: 0, authenticator: request.authenticator, attributes: request.attributes },
      this.#opts.secret,
    );
    if (!encoded.ok) return Promise.resolve({ kind: 'encode_error', error: encoded.error });
    const template = encoded.value;
    const { retries, retryWaitMs, secret, logger } = this.#opts;
    const requireMessageAuthenticator = request.requireMessageAuthenticator ?? this.#opts.requireMessageAuthenticator;

    return new Promise<ExchangeResult>((resolve) => {
      let finished = false;
      let transmissions = 0;
      let timer: NodeJS.Timeout | undefined;
      /** Identifier per socket for this exchange (the Identifier is covered by the MAC). */
      const slots = new Map<IdentifierSocket, { id: number; bytes: Uint8Array }>();
      /** Where transmissions went: only those addresses may answer. */
      const targets = new Map<string, RadiusEndpoint>();

      const finish = (result: ExchangeResult) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        for (const [s, { id }] of slots) s.pending.delete(id);
        signal?.removeEventListener('abort', abort);
        this.#live.delete(abort);
        resolve(result);
      };
      const abort = () => finish({ kind: 'aborted' });

      const waiterFor = (socket: IdentifierSocket): Waiter => ({
        onReply: (packet, rinfo) => {
          const from = targets.get(`${rinfo.address}|${rinfo.port}`);
          const slot = slots.get(socket);
          if (!from || !slot) {
            logger.warn(
              { source: `${rinfo.address}:${rinfo.port}` },
              'RADIUS reply from an address the request was not sent to: dropped',
            );
            return;
          }
          const check = verifyReply(packet, { identifier: slot.id, authenticator: request.authenticator }, secret, {
            requireMessageAuthenticator,
          });
          if (!check.ok) {
            logDroppedReply(logger, check.error, from);
            return;
          }
          if (!request.replyCodes.includes(packet.code)) finish({ kind: 'unexpected_code', code: packet.code, from });
          else finish({ kind: 'reply', packet, from });
        },
      });

      const transmit = async () => {
        const endpoint = endpoints[transmissions % endpoints.length]!;
        transmissions++;
        timer = setTimeout(transmissions <= retries ? transmit : () => finish({ kind: 'timeout' }), retryWaitMs);
        try {
          const { address, family } = await lookup(endpoint.host);
          const socket = await this.#socketFor(family === 6 ? 6 : 4, slots);
          if (finished) return;
          let slot = slots.get(socket);
          if (!slot) {
            const id = socket.allocate(waiterFor(socket));
            slot = { id, bytes: withIdentifier(template, id, secret) };
            slots.set(socket, slot);
          }
          targets.set(`${address}|${endpoint.port}`, endpoint);
          socket.socket.send(slot.bytes, endpoint.port, address, (error) => {
            if (error) logger.debug({ err: error, host: endpoint.host, port: endpoint.port }, 'RADIUS send failed');
          });
        } catch (error) {
          // A failed lookup or send counts as a lost transmission: the next retry moves on.
          logger.debug({ err: error, host: endpoint.host, port: endpoint.port }, 'RADIUS transmission failed');
        }
      };

      if (this.#closed || signal?.aborted) {
        finish({ kind: 'aborted' });
        return;
      }
      signal?.addEventListener('abort', abort, { once: true });
      this.#live.add(abort);
      void transmit();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const abort of [...this.#live]) abort();
    const all = [...this.#sockets[4], ...this.#sockets[6]];
    this.#sockets[4] = [];
    this.#sockets[6] = [];
    await Promise.all(all.map((s) => new Promise<void>((res) => s.socket.close(() => res()))));
  }

  /** A socket of this family with a free Identifier (an exchange keeps the one it already has). */
  async #socketFor(family: Family, held: ReadonlyMap<IdentifierSocket, unknown>): Promise<IdentifierSocket> {
    for (const s of this.#sockets[family]) if (held.has(s) || !s.full) return s;
    const opening = this.#opening.get(family);
    if (opening) {
      const s = await opening;
      if (!s.full) return s;
    }
    const next = this.#open(family);
    this.#opening.set(family, next);
    try {
      return await next;
    } finally {
      if (this.#opening.get(family) === next) this.#opening.delete(family);
    }
  }

  #open(family: Family): Promise<IdentifierSocket> {
    if (this.#closed) return Promise.reject(new Error('transport closed'));
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    const entry = new IdentifierSocket(socket);
    socket.on('message', (msg, rinfo) => {
      const decoded = decodePacket(new Uint8Array(msg));
      if (!decoded.ok) {
        this.#opts.logger.warn(
          { source: `${rinfo.address}:${rinfo.port}`, error: decoded.error },
          'malformed RADIUS reply dropped',
        );
        return;
      }
      entry.pending.get(decoded.value.identifier)?.onReply(decoded.value, rinfo);
    });
    socket.on('error', (error) => this.#opts.logger.error({ err: error }, 'RADIUS client socket error'));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        socket.unref();
        this.#sockets[family].push(entry);
        resolve(entry);
      });
    });
  }
}

/** Copy of the encoded request with another Identifier, Message-Authenticator re-signed. */
function withIdentifier(template: Uint8Array, identifier: number, secret: Uint8Array): Uint8Array {
  const bytes = template.slice();
  bytes[1] = identifier;
  signMessageAuthenticator(bytes, secret);
  return bytes;
}

function logDroppedReply(logger: Logger, reason: ReplyCheckError, from: RadiusEndpoint): void {
  // A forged or misconfigured reply is dropped as if it never arrived; the exchange keeps waiting.
  logger.warn({ reason, host: from.host, port: from.port }, 'unauthentic RADIUS reply from upstream dropped');
}
