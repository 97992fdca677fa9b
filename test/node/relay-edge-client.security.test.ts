import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateKeyPair,
  importPrivateKeyPem,
  importPublicKey,
  type Key,
  sign,
  verify,
} from '@duo-edge/contract/ed25519';
import { utf8 } from '@duo-edge/contract/encoding';
import { decisionMessage, HEADER, relayRequestMessage } from '@duo-edge/contract/signing';
import type { PreauthRequest } from '@duo-edge/contract/wire';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../local-relay/src/edge/breaker.ts';
import { createEdgeClient, type EdgeClient } from '../../local-relay/src/edge/client.ts';
import type { EdgeTransport } from '../../local-relay/src/edge/http/exchange.ts';
import { createEdgeTransport } from '../../local-relay/src/edge/http/transport.ts';
import { loadIdentity } from '../../local-relay/src/edge/identity.ts';
import type { RelayIdentity } from '../../local-relay/src/edge/signing.ts';
import { spyTransport } from '../support/fake-transport.ts';

type Mode =
  | 'good'
  | 'nosig'
  | 'foreign-key'
  | 'other-nonce'
  | 'other-path'
  | 'other-body'
  | 'short-sig'
  | 'not-base64url'
  | 'schema'
  | 'not-json'
  | '500'
  | '401'
  | 'refused-site'
  | 'refused-odd-code'
  | 'huge-unsigned'
  | 'next-key'
  | 'hang';

const PREAUTH: PreauthRequest = { username: 'alice', nas: {}, primary: 'passed' };
const ALLOW = { result: 'allow', message: 'Bypass', source: 'duo' };

let edgeKey: Key;
let foreignKey: Key;
let nextKey: Key;
let nextPub: Key;
let relayPub: Key;
let mode: Mode = 'good';
let requests: Array<{ url: string; relaySignatureValid: boolean }> = [];
let server: Server;
let base: string;
let identity: RelayIdentity;
/** A loopback port nobody listens on: connections are refused at once. */
let closedUrl: string;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = new Uint8Array(Buffer.concat(chunks));
  const h = (n: string) => String(req.headers[n] ?? '');
  const url = new URL(req.url ?? '/', 'http://x');
  const message = await relayRequestMessage({
    method: req.method ?? '',
    path: url.pathname,
    site: h(HEADER.site),
    timestamp: h(HEADER.timestamp),
    nonce: h(HEADER.nonce),
    body,
  });
  requests.push({ url: url.pathname, relaySignatureValid: await verify(relayPub, h(HEADER.signature), message) });
  if (mode === 'hang') return;
  if (mode === 'refused-site' || mode === 'refused-odd-code') {
    const code = mode === 'refused-site' ? 'site_misconfigured' : 'x\nFAKE LOG LINE';
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code, message: 'site entry invalid' } }));
    return;
  }
  if (mode === 'huge-unsigned') {
    // Streamed without a length, far past the relay's cap: it must stop reading, not buffer it all.
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    for (let i = 0; i < 64 && !res.destroyed; i++) res.write(chunk);
    res.end('{}');
    return;
  }
  if (mode === '500' || mode === '401') {
    res.writeHead(Number(mode), { 'content-type': 'application/json' }).end('{"error":{"code":"x","message":"x"}}');
    return;
  }
  const out = utf8(
    mode === 'schema' ? JSON.stringify({ result: 'maybe' }) : mode === 'not-json' ? 'hello' : JSON.stringify(ALLOW),
  );
  const signed = await decisionMessage({
    path: mode === 'other-path' ? '/v1/auth' : url.pathname,
    nonce: mode === 'other-nonce' ? 'A'.repeat(43) : h(HEADER.nonce),
    // The edge's signature over other bytes than those sent (one space more).
    body: mode === 'other-body' ? utf8(`${new TextDecoder().decode(out)} `) : out,
  });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (mode !== 'nosig')
    headers[HEADER.decisionSignature] = await sign(
      mode === 'foreign-key' ? foreignKey : mode === 'next-key' ? nextKey : edgeKey,
      signed,
    );
  // Not 64 bytes once decoded: rejected before any key is tried.
  if (mode === 'short-sig') headers[HEADER.decisionSignature] = headers[HEADER.decisionSignature]!.slice(0, 80);
  if (mode === 'not-base64url') headers[HEADER.decisionSignature] = `${'+'.repeat(85)}=`;
  res.writeHead(200, headers).end(out);
}

beforeAll(async () => {
  const edge = await generateKeyPair();
  const foreign = await generateKeyPair();
  const relay = await generateKeyPair();
  const next = await generateKeyPair();
  nextKey = (await importPrivateKeyPem(next.privateKeyPem))!;
  nextPub = (await importPublicKey(next.publicKey))!;
  edgeKey = (await importPrivateKeyPem(edge.privateKeyPem))!;
  foreignKey = (await importPrivateKeyPem(foreign.privateKeyPem))!;
  relayPub = (await importPublicKey(relay.publicKey))!;
  const dir = await mkdtemp(join(tmpdir(), 'relay-edge-'));
  await writeFile(join(dir, 'relay.key'), relay.privateKeyPem);
  const loaded = await loadIdentity('site-a', join(dir, 'relay.key'));
  if (!loaded.ok) throw new Error(loaded.error);
  identity = loaded.value;
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  (globalThis as { edgePublicKey?: Key }).edgePublicKey = (await importPublicKey(edge.publicKey))!;
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise((r) => probe.close(r));
});

/** Every client's own transport (as each relay has one), closed at the end. */
const transports: EdgeTransport[] = [];
function transport(): EdgeTransport {
  const t = createEdgeTransport({ maxStreams: 16 });
  transports.push(t);
  return t;
}

afterAll(async () => {
  for (const t of transports) await t.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  mode = 'good';
  requests = [];
});

function client(
  opts: {
    urls?: string[];
    threshold?: number;
    preauthTimeoutMs?: number;
    keys?: Key[];
    onRefusal?: (stage: string, code: string) => void;
  } = {},
): {
  c: EdgeClient;
  breaker: CircuitBreaker;
} {
  const breaker = new CircuitBreaker({ threshold: opts.threshold ?? 3 });
  const c = createEdgeClient({
    urls: opts.urls ?? [base],
    identity,
    edgePublicKeys: opts.keys ?? [(globalThis as { edgePublicKey?: Key }).edgePublicKey!],
    preauthTimeoutMs: opts.preauthTimeoutMs ?? 2000,
    authTimeoutMs: 2000,
    breaker,
    logger: pino({ level: 'silent' }),
    transport: transport(),
    ...(opts.onRefusal ? { onRefusal: opts.onRefusal } : {}),
  });
  return { c, breaker };
}

describe('edge client: every answer must be signed by the pinned edge key', () => {
  it('accepts a valid signed answer and signs its own request', async () => {
    const { c } = client();
    expect(await c.preauth(PREAUTH)).toEqual({ kind: 'ok', value: ALLOW });
    expect(requests).toEqual([{ url: '/v1/preauth', relaySignatureValid: true }]);
  });

  it('an edge URL with a path (a route prefix): the answer is verified against the path the request went to', async () => {
    const { c } = client({ urls: [`${base}/duo-edge/`] });
    expect(await c.preauth(PREAUTH)).toEqual({ kind: 'ok', value: ALLOW });
    expect(requests).toEqual([{ url: '/duo-edge/v1/preauth', relaySignatureValid: true }]);
  });

  it.each([
    ['missing signature', 'nosig', 'unverified'],
    ['signature by another key', 'foreign-key', 'unverified'],
    ['signature bound to another nonce (replay)', 'other-nonce', 'unverified'],
    ['signature bound to another path', 'other-path', 'unverified'],
    ['signature over other body bytes', 'other-body', 'unverified'],
    ['signature cut short', 'short-sig', 'unverified'],
    ['signature that is not base64url', 'not-base64url', 'unverified'],
    ['an unsigned body over the size cap', 'huge-unsigned', 'unverified'],
    ['signed body that breaks the schema', 'schema', 'version_skew'],
    ['signed body that is not JSON', 'not-json', 'version_skew'],
  ] as const)('%s → %s, never an answer', async (_, m, kind) => {
    mode = m;
    const { c, breaker } = client({ threshold: 1 });
    expect((await c.preauth(PREAUTH)).kind).toBe(kind);
    // Neither an outage (nobody may open the breaker for everyone by injecting answers) ...
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(0);
  });

  it('a TLS certificate that does not verify is unverifiable, not an outage: never fails open', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-selfsigned-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    // Something answers on the edge's address with a certificate the relay does not trust: a
    // TLS-intercepting middlebox. Were it an outage, a safe site would let the login in.
    const tls = createHttpsServer(
      {
        key: await readFile(join(dir, 'key.pem')),
        cert: await readFile(join(dir, 'cert.pem')),
      },
      (_req, res) => res.end('{}'),
    );
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', () => r()));
    try {
      const { c, breaker } = client({
        urls: [`https://127.0.0.1:${(tls.address() as AddressInfo).port}`],
        threshold: 1,
      });
      expect(await c.preauth(PREAUTH)).toMatchObject({
        kind: 'unverified',
        detail: 'TLS: DEPTH_ZERO_SELF_SIGNED_CERT',
      });
      expect(breaker.state).toBe('closed');
    } finally {
      await new Promise((r) => tls.close(r));
    }
  });

  it('an unverifiable answer does not reset the count of real outages either', async () => {
    const { c, breaker } = client({ urls: [closedUrl], threshold: 3 });
    await c.preauth(PREAUTH);
    expect(breaker.consecutiveFailures).toBe(1);
    mode = 'nosig';
    c.configure(connection());
    expect((await c.preauth(PREAUTH)).kind).toBe('unverified');
    expect(breaker.consecutiveFailures).toBe(1);
  });

  it('accepts an answer signed by any pinned key (current and next), and only those', async () => {
    mode = 'next-key';
    const current = (globalThis as { edgePublicKey?: Key }).edgePublicKey!;
    expect((await client({ keys: [current, nextPub] }).c.preauth(PREAUTH)).kind).toBe('ok');
    expect((await client({ keys: [current] }).c.preauth(PREAUTH)).kind).toBe('unverified');
    mode = 'good';
    expect((await client({ keys: [nextPub] }).c.preauth(PREAUTH)).kind).toBe('unverified');
  });

  it('HTTP errors are reported with their status and the error code of a 4xx body', async () => {
    mode = '401';
    const { c } = client();
    expect(await c.preauth(PREAUTH)).toEqual({ kind: 'http', status: 401, code: 'x' });
  });

  it('a misconfigured-site refusal is named and reported; an odd code is not passed on', async () => {
    const refusals: string[] = [];
    const { c } = client({ onRefusal: (stage, code) => refusals.push(`${stage}:${code}`) });
    mode = 'refused-site';
    expect(await c.preauth(PREAUTH)).toEqual({ kind: 'http', status: 403, code: 'site_misconfigured' });
    mode = 'refused-odd-code';
    expect(await c.preauth(PREAUTH)).toEqual({ kind: 'http', status: 403 });
    expect(refusals).toEqual(['preauth:site_misconfigured']);
  });
});

/** What a test needs to re-configure a client: the same identity and key, other URLs. */
function connection() {
  return {
    urls: [base],
    identity,
    edgePublicKeys: [(globalThis as { edgePublicKey?: Key }).edgePublicKey!],
    preauthTimeoutMs: 2000,
    authTimeoutMs: 2000,
  };
}

describe('edge client: failover, deadlines and the breaker', () => {
  it('tries the next URL when the first refuses', async () => {
    const { c } = client({ urls: [closedUrl, base] });
    expect((await c.preauth(PREAUTH)).kind).toBe('ok');
  });

  it('tries the next URL on a 5xx at preauth, but not at auth', async () => {
    mode = '500';
    const { c } = client({ urls: [base, base] });
    await c.preauth(PREAUTH);
    expect(requests).toHaveLength(2);
    requests = [];
    await c.auth({
      username: 'alice',
      factor: 'push',
      device: 'auto',
      nas: {},
      primary: 'passed',
      login_id: 'a'.repeat(64),
    });
    expect(requests).toHaveLength(1);
  });

  it('a hung edge is a timeout at the stage deadline', async () => {
    mode = 'hang';
    const { c } = client({ preauthTimeoutMs: 200 });
    expect(await c.preauth(PREAUTH)).toMatchObject({ kind: 'transport', cause: 'timeout' });
  });

  it('opens after N consecutive transport failures; then fails without touching the network', async () => {
    let fetches = 0;
    const breaker = new CircuitBreaker({ threshold: 2 });
    const counting = createEdgeClient({
      urls: [closedUrl],
      identity,
      edgePublicKeys: [(globalThis as { edgePublicKey?: Key }).edgePublicKey!],
      preauthTimeoutMs: 1000,
      authTimeoutMs: 1000,
      breaker,
      logger: pino({ level: 'silent' }),
      transport: spyTransport(transport(), () => fetches++),
    });
    expect(await counting.preauth(PREAUTH)).toMatchObject({ kind: 'transport', cause: 'refused' });
    expect(breaker.state).toBe('closed');
    await counting.preauth(PREAUTH);
    expect(breaker.state).toBe('open');
    expect(fetches).toBe(2);
    expect(await counting.preauth(PREAUTH)).toEqual({ kind: 'transport', cause: 'breaker_open' });
    expect(fetches).toBe(2);
  });
});
