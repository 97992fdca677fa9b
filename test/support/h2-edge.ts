import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  constants,
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { importPrivateKeyPem, sign } from '@duo-edge/contract/ed25519';
import { utf8 } from '@duo-edge/contract/encoding';
import { decisionMessage, HEADER } from '@duo-edge/contract/signing';
import { EDGE_KEY } from './keys.ts';

/**
 * A small edge for transport tests: answers /v1/preauth and /v1/auth with bodies signed by EDGE_KEY,
 * over h2 (TLS, ALPN), HTTPS without h2, or plain http. It counts what a transport must keep small
 * (connections, streams open at once) and can hold /v1/auth like a push waiting for its human.
 */
export interface TestEdge {
  url: string;
  /** TCP connections accepted so far. */
  connections(): number;
  /** The most requests open at once so far, in all and on any one connection. */
  maxOpen(): number;
  maxOpenPerConnection(): number;
  /** Every request taken, in order: `POST /v1/auth` with its protocol (`2.0`, `1.1`) and login_id. */
  requests: Array<{ path: string; httpVersion: string; loginId?: string; streamId?: number }>;
  /** /v1/auth requests waiting now (holdAuth). */
  held(): number;
  /** Answers every waiting /v1/auth with a signed allow. */
  release(): void;
  /** Forgets the waiting /v1/auth calls with these h2 stream ids (a GOAWAY'd server never answers them). */
  drop(streamIds: (id: number) => boolean): void;
  /** Bytes of endless bodies written before the reader dropped the stream. */
  endlessWritten(): number;
  /** The h2 sessions open now (GOAWAY, kill a connection). */
  sessions(): ServerHttp2Session[];
  /** PING frames received from the relay so far, on all sessions. */
  pings(): number;
  close(): Promise<void>;
}

export interface TestEdgeOptions {
  protocol: 'h2' | 'https' | 'http';
  /** ca.pem, server.pem, server.key (makeCertificates); not for http. */
  tlsDir?: string;
  /** SETTINGS_MAX_CONCURRENT_STREAMS the h2 server advertises. */
  maxConcurrentStreams?: number;
  /** Hold every /v1/auth until release(). */
  holdAuth?: boolean;
  /** Answer each request after this long (so calls overlap). */
  delayMs?: number;
  /** Answer /v1/preauth with a signed header and an endless body (no length): the reader must stop. */
  endless?: boolean;
  /** Answer /v1/preauth with this 3xx (Location: a sign-in page), as an access gateway in front would. */
  redirect?: number;
  /** Answer /v1/preauth with a Content-Length over the relay's cap (and a short body). */
  declaresOver?: boolean;
  /** Answer /v1/auth with its headers and half its body, then reset the stream (h2) or the connection. */
  cutOff?: boolean;
  /**
   * h2: every connection gets SETTINGS (maxConcurrentStreams) and GOAWAY (no stream processed) in one
   * write, as an overloaded or draining server, or a middlebox, may send them; nothing else.
   */
  goawayAtStart?: boolean;
}

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

export async function startTestEdge(o: TestEdgeOptions): Promise<TestEdge> {
  const key = (await importPrivateKeyPem(EDGE_KEY.privateKeyPem))!;
  const waiting: Array<{ streamId: number | undefined; send: () => void }> = [];
  const requests: TestEdge['requests'] = [];
  const sockets = new Set<Socket>();
  const sessions = new Set<ServerHttp2Session>();
  let connections = 0;
  let open = 0;
  let maxOpen = 0;
  let maxOpenPerConnection = 0;
  const openOn = new WeakMap<object, number>();
  let endlessWritten = 0;
  let pings = 0;

  /** 64 KiB at a time until the stream is gone (or 64 MiB, so a broken reader cannot hang the test). */
  function endless(res: Res): void {
    (res as ServerResponse).writeHead(200, { 'content-type': 'application/json', [HEADER.decisionSignature]: 'x' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const more = () => {
      while (!res.destroyed && endlessWritten < 64 * 1024 * 1024) {
        endlessWritten += chunk.byteLength;
        if (!(res as ServerResponse).write(chunk)) return void res.once('drain', more);
      }
      if (!res.destroyed) res.end();
    };
    more();
  }

  /** Headers promising 200 bytes, 100 of them, then the stream or the connection is gone. */
  function cutOff(res: Res): void {
    (res as ServerResponse).writeHead(200, {
      'content-type': 'application/json',
      'content-length': '200',
      [HEADER.decisionSignature]: 'x',
    });
    (res as ServerResponse).write(Buffer.alloc(100, 0x20), () =>
      'stream' in res ? res.stream.close(constants.NGHTTP2_INTERNAL_ERROR) : res.socket?.destroy(),
    );
  }

  async function answer(req: Req, res: Res, value: unknown): Promise<void> {
    const out = utf8(JSON.stringify(value));
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const nonce = String(req.headers[HEADER.nonce] ?? '');
    const signature = await sign(key, await decisionMessage({ path, nonce, body: out }));
    if (res.destroyed) return;
    (res as ServerResponse).writeHead(200, {
      'content-type': 'application/json',
      [HEADER.decisionSignature]: signature,
    });
    res.end(out);
  }

  function handle(req: Req, res: Res): void {
    open++;
    maxOpen = Math.max(maxOpen, open);
    const connection: object = 'stream' in req ? req.stream.session! : req.socket;
    openOn.set(connection, (openOn.get(connection) ?? 0) + 1);
    maxOpenPerConnection = Math.max(maxOpenPerConnection, openOn.get(connection)!);
    res.once('close', () => {
      open--;
      openOn.set(connection, openOn.get(connection)! - 1);
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const streamId = 'stream' in req ? req.stream.id : undefined;
      const parsed = body.byteLength > 0 ? (JSON.parse(Buffer.from(body).toString()) as { login_id?: string }) : {};
      requests.push({
        path: `${req.method} ${path}`,
        httpVersion: req.httpVersion,
        ...(parsed.login_id ? { loginId: parsed.login_id } : {}),
        ...(streamId !== undefined ? { streamId } : {}),
      });
      const value =
        path === '/v1/auth'
          ? { result: 'allow', message: 'Success. Logging you in...', source: 'duo', status: 'allow' }
          : { result: 'allow', message: 'Bypass', source: 'duo' };
      const send = () => void answer(req, res, value);
      if (path === '/v1/preauth' && o.endless) endless(res);
      else if (path === '/v1/preauth' && o.declaresOver) {
        (res as ServerResponse).writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(1024 * 1024),
        });
        (res as ServerResponse).write('{}');
      } else if (path === '/v1/auth' && o.cutOff) cutOff(res);
      else if (path === '/v1/preauth' && o.redirect) {
        res.statusCode = o.redirect;
        res.setHeader('location', 'https://sign-in.example.com/');
        res.end();
      } else if (path === '/v1/auth' && o.holdAuth) waiting.push({ streamId, send });
      else if (o.delayMs) setTimeout(send, o.delayMs);
      else send();
    });
  }

  /**
   * SETTINGS (its only entry SETTINGS_MAX_CONCURRENT_STREAMS), then GOAWAY (last stream 0, NO_ERROR),
   * framed by hand (RFC 9113 §4.1: 3-byte length, type, flags, stream 0).
   */
  function goawayAtStart(s: Socket): void {
    const settings = Buffer.from([0, 0, 6, 0x4, 0, 0, 0, 0, 0, 0, 0x3, 0, 0, 0, 0]);
    settings.writeUInt32BE(o.maxConcurrentStreams ?? 1000, 11);
    const goaway = Buffer.from([0, 0, 8, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    s.on('error', () => {});
    s.on('data', () => {});
    s.once('end', () => s.end());
    s.write(Buffer.concat([settings, goaway]));
  }

  const tls = o.tlsDir
    ? { key: await readFile(join(o.tlsDir, 'server.key')), cert: await readFile(join(o.tlsDir, 'server.pem')) }
    : undefined;
  const server =
    o.protocol === 'h2' && o.goawayAtStart
      ? createTlsServer({ ...tls, ALPNProtocols: ['h2'] }, goawayAtStart)
      : o.protocol === 'h2'
        ? createSecureServer(
            { ...tls, settings: { maxConcurrentStreams: o.maxConcurrentStreams ?? 1000 } },
            handle as (req: Http2ServerRequest, res: Http2ServerResponse) => void,
          )
        : o.protocol === 'https'
          ? createHttpsServer({ ...tls }, handle)
          : createHttpServer({ keepAliveTimeout: 60_000 }, handle);
  server.on(o.protocol === 'http' ? 'connection' : 'secureConnection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('session', (s: ServerHttp2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
    s.on('ping', () => pings++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `${o.protocol === 'http' ? 'http' : 'https'}://127.0.0.1:${port}`,
    connections: () => connections,
    maxOpen: () => maxOpen,
    maxOpenPerConnection: () => maxOpenPerConnection,
    endlessWritten: () => endlessWritten,
    requests,
    held: () => waiting.length,
    release() {
      for (const w of waiting.splice(0)) w.send();
    },
    drop(which) {
      for (let i = waiting.length - 1; i >= 0; i--) {
        const id = waiting[i]!.streamId;
        if (id !== undefined && which(id)) waiting.splice(i, 1);
      }
    },
    sessions: () => [...sessions],
    pings: () => pings,
    async close() {
      const closed = new Promise((r) => server.close(r));
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
