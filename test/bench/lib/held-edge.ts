import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPrivateKeyPem, sign } from '@duo-edge/contract/ed25519';
import { utf8 } from '@duo-edge/contract/encoding';
import { decisionMessage, HEADER } from '@duo-edge/contract/signing';
import { EDGE_KEY } from '../../support/keys.ts';
import { makeCertificates } from '../../support/slapd.ts';

/**
 * A stand-in edge for the memory benchmark: answers the relay's wire contract with correctly signed
 * bodies (EDGE_KEY), preauth at once (`auth`, one push-capable phone), and holds every `/v1/auth`
 * until `release()`, as a Duo push waiting for its human would. It does not check the relay's
 * signature: the subject is the relay's memory with N logins waiting, and the real workerd edge on
 * this machine cannot hold 10,000 blocking Duo calls (each is an inbound plus an outbound socket,
 * against a 20,000 descriptor limit) nor take them faster than ~150 requests a second.
 *
 * It speaks h2 over TLS, as the production edge does, so the relay's edge connection is the one it
 * uses in production (one session, a stream per waiting login). Its throwaway CA reaches the relay
 * child through NODE_EXTRA_CA_CERTS, set in this process for the children it spawns.
 */
export interface HeldEdge {
  url: string;
  /** /v1/auth requests waiting right now. */
  held(): number;
  /** Answers every waiting /v1/auth with a signed allow. */
  release(): void;
  close(): Promise<void>;
}

const DEVICE = {
  device: 'DPALICE0000000000001',
  type: 'phone',
  name: "Alice's phone",
  capabilities: ['auto', 'push', 'sms', 'phone', 'mobile_otp'],
};

export async function startHeldEdge(site: string): Promise<HeldEdge> {
  const key = (await importPrivateKeyPem(EDGE_KEY.privateKeyPem))!;
  const waiting: Array<() => Promise<void>> = [];
  const sockets = new Set<Socket>();

  async function answer(req: Http2ServerRequest, res: Http2ServerResponse, value: unknown): Promise<void> {
    const body = utf8(JSON.stringify(value));
    const path = new URL(req.url!, 'http://x').pathname;
    const nonce = String(req.headers[HEADER.nonce] ?? '');
    const signature = await sign(key, await decisionMessage({ path, nonce, body }));
    res.writeHead(200, { 'content-type': 'application/json', [HEADER.decisionSignature]: signature }).end(body);
  }

  const tlsDir = await mkdtemp(join(tmpdir(), 'held-edge-tls-'));
  process.env.NODE_EXTRA_CA_CERTS = await makeCertificates(tlsDir);
  const tls = { key: await readFile(join(tlsDir, 'server.key')), cert: await readFile(join(tlsDir, 'server.pem')) };
  // No stream limit of its own: the relay's [edge] max_streams is what a waiting login meets.
  const settings = { maxConcurrentStreams: 1_000_000 };
  const server = createSecureServer({ ...tls, settings, maxSessionMemory: 1024 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const path = new URL(req.url!, 'http://x').pathname;
      switch (path) {
        case '/v1/health':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: true, version: 'held', duo: { reachable: true, checked_at: null } }));
          return;
        case '/v1/site':
          void answer(req, res, {
            site,
            version: 'held-edge',
            failmode: 'secure',
            factors: ['auto'],
            exempt_usernames: [],
            limits: { push_per_window: 1_000_000, passcode_failures_per_window: 10, window_seconds: 600 },
            edge_time: Math.floor(Date.now() / 1000),
          });
          return;
        case '/v1/preauth':
          void answer(req, res, { result: 'auth', message: 'Account is active', source: 'duo', devices: [DEVICE] });
          return;
        case '/v1/auth':
          waiting.push(() =>
            answer(req, res, {
              result: 'allow',
              message: 'Success. Logging you in...',
              source: 'duo',
              status: 'allow',
            }),
          );
          return;
        case '/v1/heartbeat':
          void answer(req, res, { ok: true });
          return;
        default:
          res.writeHead(404).end();
      }
    });
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', 4096, r));
  return {
    url: `https://127.0.0.1:${(server.address() as { port: number }).port}`,
    held: () => waiting.length,
    release() {
      for (const send of waiting.splice(0)) void send();
    },
    async close() {
      const closed = new Promise((r) => server.close(r));
      for (const s of sockets) s.destroy();
      await closed;
      await rm(tlsDir, { recursive: true, force: true });
    },
  };
}
