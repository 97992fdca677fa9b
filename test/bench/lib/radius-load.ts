import { createSocket, type Socket } from 'node:dgram';
import { Attr, decodePacket, getAttribute, textAttribute, verifyReply } from '../../../local-relay/src/radius/index.ts';
import { buildRequest } from '../../support/radclient.ts';

/**
 * The NAS side of end-to-end tests and benchmarks: Access-Requests built with the relay's own codec
 * (Message-Authenticator on every one) over several UDP sockets, and a ledger of every reply per
 * request, so "answered exactly once" is something a test can count rather than assume.
 * Replies are checked (identifier, Response Authenticator, Message-Authenticator) against the
 * request they claim to answer; anything that fails is counted as `unmatched`: a late duplicate
 * for a recycled identifier lands there too.
 */

export interface LoginSpec {
  username: string;
  password: string;
  /** Calling-Station-Id: the edge joins concurrent pushes per (NAS, station), so distinct logins differ here. */
  callingStationId?: string;
}

export interface LoginReply {
  /** RADIUS code: 2 Accept, 3 Reject, 11 Challenge. */
  code: number;
  replyMessage: string | undefined;
  /** From the first send of the request. */
  latencyMs: number;
  bytes: Uint8Array;
}

export interface LoginResult {
  spec: LoginSpec;
  /** Every verified reply to this request, in arrival order (more than one = answered twice). */
  replies: LoginReply[];
  /** How many times the same bytes went out (1 + retransmits). */
  sends: number;
}

export interface LoginOptions {
  /** Give up waiting for the first reply after this long. */
  timeoutMs: number;
  /** Resend the identical bytes (a NAS retransmit) if no reply came within this long. */
  retransmitAfterMs?: number;
}

interface InFlight {
  result: LoginResult;
  authenticator: Uint8Array;
  identifier: number;
  sentAt: number;
  done?: (r: LoginResult) => void;
}

interface Lane {
  socket: Socket;
  free: number[];
  /** Last request per identifier: late replies are still matched to it until the id is reused. */
  byId: Map<number, InFlight>;
}

export const CODE_NAME: Readonly<Record<number, string>> = { 2: 'Accept', 3: 'Reject', 11: 'Challenge' };

export class RadiusLoginClient {
  readonly #lanes: Lane[];
  readonly #secret: Uint8Array;
  readonly #host: string;
  readonly #port: number;
  readonly #waiting: Array<() => void> = [];
  #next = 0;
  /** Datagrams that matched no request (bad authenticator, unknown id, undecodable). */
  unmatched = 0;

  private constructor(lanes: Lane[], secret: string, host: string, port: number) {
    this.#lanes = lanes;
    this.#secret = new TextEncoder().encode(secret);
    this.#host = host;
    this.#port = port;
  }

  /** `lanes` UDP sockets, 256 identifiers each: concurrency above lanes*256 waits for a free id. */
  static async open(opts: { port: number; secret: string; host?: string; lanes?: number }): Promise<RadiusLoginClient> {
    const lanes: Lane[] = [];
    for (let i = 0; i < (opts.lanes ?? 4); i++) {
      const socket = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, '127.0.0.1', () => resolve());
      });
      // Bursts of replies must not be dropped on our side of the loopback.
      socket.setRecvBufferSize(8 * 1024 * 1024);
      lanes.push({ socket, free: Array.from({ length: 256 }, (_, id) => id), byId: new Map() });
    }
    const client = new RadiusLoginClient(lanes, opts.secret, opts.host ?? '127.0.0.1', opts.port);
    for (const lane of lanes) lane.socket.on('message', (msg) => client.#onReply(lane, new Uint8Array(msg)));
    return client;
  }

  async login(spec: LoginSpec, opts: LoginOptions): Promise<LoginResult> {
    const lane = await this.#laneWithFreeId();
    const identifier = lane.free.pop()!;
    const callingStation = spec.callingStationId ? [textAttribute(Attr.CallingStationId, spec.callingStationId)] : [];
    const req = buildRequest({
      secret: this.#secret,
      identifier,
      username: spec.username,
      password: spec.password,
      attributes: [textAttribute(Attr.NasIdentifier, 'bench-nas'), ...callingStation],
    });
    const result: LoginResult = { spec, replies: [], sends: 1 };
    const entry: InFlight = { result, authenticator: req.authenticator, identifier, sentAt: performance.now() };
    lane.byId.set(identifier, entry);
    const send = () => lane.socket.send(req.bytes, this.#port, this.#host);
    send();
    await new Promise<void>((resolve) => {
      const timeout = setTimeout(finish, opts.timeoutMs);
      const retransmit =
        opts.retransmitAfterMs === undefined
          ? undefined
          : setTimeout(() => {
              result.sends++;
              send();
            }, opts.retransmitAfterMs);
      function finish() {
        clearTimeout(timeout);
        clearTimeout(retransmit);
        entry.done = undefined;
        resolve();
      }
      entry.done = finish;
    });
    lane.free.unshift(identifier);
    this.#waiting.shift()?.();
    return result;
  }

  #onReply(lane: Lane, bytes: Uint8Array): void {
    const decoded = decodePacket(bytes);
    const entry = decoded.ok ? lane.byId.get(decoded.value.identifier) : undefined;
    if (!decoded.ok || !entry) {
      this.unmatched++;
      return;
    }
    const check = verifyReply(decoded.value, entry, this.#secret, { requireMessageAuthenticator: true });
    if (!check.ok) {
      this.unmatched++;
      return;
    }
    const message = getAttribute(decoded.value, Attr.ReplyMessage);
    entry.result.replies.push({
      code: decoded.value.code,
      replyMessage: message && new TextDecoder().decode(message),
      latencyMs: performance.now() - entry.sentAt,
      bytes,
    });
    entry.done?.(entry.result);
  }

  async #laneWithFreeId(): Promise<Lane> {
    for (;;) {
      for (let i = 0; i < this.#lanes.length; i++) {
        const lane = this.#lanes[(this.#next + i) % this.#lanes.length]!;
        if (lane.free.length > 0) {
          this.#next = (this.#next + i + 1) % this.#lanes.length;
          return lane;
        }
      }
      await new Promise<void>((r) => this.#waiting.push(r));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#lanes.map((l) => new Promise<void>((r) => l.socket.close(() => r()))));
  }
}

/** Starts `count` logins at `perSecond` (open loop) and resolves with all results in order. */
export async function paced(
  count: number,
  perSecond: number,
  start: (i: number) => Promise<LoginResult>,
): Promise<LoginResult[]> {
  const began = performance.now();
  const all: Array<Promise<LoginResult>> = [];
  for (let i = 0; i < count; i++) {
    const due = began + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    all.push(start(i));
  }
  return Promise.all(all);
}

/** `concurrency` workers each running logins back to back until `durationMs` is up (closed loop). */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  run: (worker: number, n: number) => Promise<LoginResult>,
): Promise<{ results: LoginResult[]; seconds: number }> {
  const results: LoginResult[] = [];
  const began = performance.now();
  const until = began + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let n = 0; performance.now() < until; n++) results.push(await run(worker, n));
    }),
  );
  return { results, seconds: (performance.now() - began) / 1000 };
}

/** An IPv4 address per login number, for Calling-Station-Id (10.x.y.z; 16M distinct). */
export function stationIp(n: number, base = 10): string {
  return `${base}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}
