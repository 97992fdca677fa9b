import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { join } from 'node:path';
import { REPLY } from '@duo-edge/contract/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckLine, runChecks } from '../../local-relay/src/cli/check.ts';
import { CODE_NAME, RadiusLoginClient } from '../bench/lib/radius-load.ts';
import { type ForwardProxy, startForwardProxy } from '../support/forward-proxy.ts';
import { makeCertificates } from '../support/slapd.ts';
import {
  type DuoAndEdge,
  freeTcpPort,
  freeUdpPort,
  RELAY_FROM_CHECKOUT,
  STACK_RADIUS_SECRET,
  scrapeMetric,
  spawnRelay,
  spawnRelayWithClient,
  stackDir,
  startDuoAndEdge,
  waitFor,
  writeRelayConfig,
} from '../support/stack.ts';

/**
 * `[edge] proxy`: a `duo-relay start` process whose edge address exists only behind a real forward
 * proxy (nothing listens there directly), so any edge call that skipped the proxy would fail. Every
 * kind of edge call (site policy, heartbeat, preauth, auth, health probe, audit upload) must show up
 * at the proxy, and the edge (workerd) must have the decisions in D1.
 */

const CREDENTIALS = 'egress-user:proxy-pass-0123456789';
let stack: DuoAndEdge;
let dir: string;

beforeAll(async () => {
  stack = await startDuoAndEdge();
  dir = await stackDir('edge-proxy');
  await writeFile(join(dir, 'proxy-credentials'), `${CREDENTIALS}\n`, { mode: 0o600 });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('edge calls through an outbound proxy', () => {
  it('sends every edge call through the proxy, with credentials, and nothing around it', async () => {
    const hidden = `127.0.0.1:${await freeTcpPort()}`;
    const routes = { [hidden]: new URL(stack.edgeUrl).host };
    const proxyPort = await freeTcpPort();
    let proxy: ForwardProxy = await startForwardProxy({ routes, credentials: CREDENTIALS, port: proxyPort });
    const {
      relay,
      client,
      dir: relayDir,
      close,
    } = await spawnRelayWithClient('edge-proxy-relay', {
      site: 'site-a',
      failmode: 'safe',
      edgeUrls: [`http://${hidden}`],
      breakerThreshold: 1,
      probeIntervalMs: 200,
      logLevel: 'info',
      edgeExtraToml: `proxy = "${proxy.url}"\nproxy_credentials = { file = "${join(dir, 'proxy-credentials')}" }`,
    });
    const file = join(relayDir, 'relay.toml');
    const paths = (p: ForwardProxy) => p.seen.map((line) => line.replace(`http://${hidden}`, ''));
    try {
      await waitFor(
        async () => paths(proxy).includes('POST /v1/heartbeat') && paths(proxy).includes('GET /v1/site'),
        20_000,
        'site policy and heartbeat through the proxy',
      );

      // `duo-relay check` takes the same way and says so.
      const lines: CheckLine[] = [];
      await runChecks(file, (l) => lines.push(l));
      expect(lines.find((l) => l.name === `edge http://${hidden}`)).toMatchObject({
        ok: true,
        detail: expect.stringContaining(
          `reachable via proxy ${proxy.url} (absolute-form, with edge.proxy_credentials)`,
        ),
      });
      expect(lines.find((l) => l.name === `relay key at http://${hidden} for site site-a`)).toMatchObject({ ok: true });
      expect(JSON.stringify(lines)).not.toContain(CREDENTIALS);

      const since = Date.now();
      const viaDuo = await client.login(
        { username: 'alice', password: 'alice-pass', callingStationId: '192.0.2.10' },
        { timeoutMs: 20_000 },
      );
      expect(CODE_NAME[viaDuo.replies[0]!.code]).toBe('Accept');
      expect(paths(proxy)).toEqual(expect.arrayContaining(['POST /v1/preauth', 'POST /v1/auth']));
      await waitFor(
        async () =>
          (await stack.decisions({ site: 'site-a', user: 'alice', from: since })).some(
            (d) => d.client_ip === '192.0.2.10' && d.source === 'duo' && d.result === 'allow',
          ),
        5_000,
        "the edge's audit record of the login through the proxy",
      );

      // The proxy goes away: nothing answers, so the edge is down and site-a (safe) lets bob in.
      await proxy.close();
      const offline = await client.login(
        { username: 'bob', password: 'bob-pass', callingStationId: '192.0.2.11' },
        { timeoutMs: 20_000 },
      );
      expect([CODE_NAME[offline.replies[0]!.code], offline.replies[0]!.replyMessage]).toEqual([
        'Accept',
        REPLY.failSafeAllowed,
      ]);
      expect(await scrapeMetric(relay.managementUrl, 'duo_relay_breaker_state')).toBe(1);

      // Back on the same port: the health probe finds the edge through it and the journal uploads.
      proxy = await startForwardProxy({ routes, credentials: CREDENTIALS, port: proxyPort });
      await waitFor(
        async () =>
          (await stack.decisions({ site: 'site-a', user: 'bob', from: since })).some(
            (d) => d.client_ip === '192.0.2.11' && d.source === 'failmode-relay',
          ),
        20_000,
        'the journalled decision uploaded through the proxy',
      );
      expect(paths(proxy)).toEqual(expect.arrayContaining(['GET /v1/health', 'POST /v1/audit']));
      expect(proxy.authorizations.every((a) => a === `Basic ${Buffer.from(CREDENTIALS).toString('base64')}`)).toBe(
        true,
      );
      expect(relay.output()).not.toContain(CREDENTIALS.split(':')[1]);
    } finally {
      await close();
      await proxy.close();
    }
  }, 120_000);

  it('fails closed when the proxy refuses (407): a refusal is not an outage, even on a safe site', async () => {
    const hidden = `127.0.0.1:${await freeTcpPort()}`;
    const proxy = await startForwardProxy({
      routes: { [hidden]: new URL(stack.edgeUrl).host },
      credentials: 'egress-user:another-password',
    });
    const { relay, client, close } = await spawnRelayWithClient('edge-proxy-refused', {
      site: 'site-a',
      failmode: 'safe',
      edgeUrls: [`http://${hidden}`],
      breakerThreshold: 1,
      logLevel: 'info',
      edgeExtraToml: `proxy = "${proxy.url}"\nproxy_credentials = { file = "${join(dir, 'proxy-credentials')}" }`,
    });
    try {
      const r = await client.login(
        { username: 'alice', password: 'alice-pass', callingStationId: '192.0.2.20' },
        { timeoutMs: 20_000 },
      );
      expect(r.replies).toHaveLength(1);
      expect(CODE_NAME[r.replies[0]!.code]).toBe('Reject');
      expect(r.replies[0]!.replyMessage).not.toBe(REPLY.failSafeAllowed);
      expect(proxy.seen.some((line) => line.endsWith('/v1/preauth'))).toBe(true);
      expect(relay.output()).toContain('fix edge.proxy_credentials');
      expect(relay.output()).not.toContain('proxy-pass-0123456789');
    } finally {
      await close();
      await proxy.close();
    }
  }, 60_000);

  it('tunnels https with CONNECT, TLS and HTTP/2 to the edge inside the tunnel', async () => {
    const tlsDir = join(dir, 'tls');
    await mkdir(tlsDir, { recursive: true });
    const ca = await makeCertificates(tlsDir);
    const edge = await startTlsFront(tlsDir, new URL(stack.edgeUrl));
    const hidden = `localhost:${await freeTcpPort()}`;
    const proxy = await startForwardProxy({ routes: { [hidden]: `127.0.0.1:${edge.port}` } });
    const radiusPort = await freeUdpPort();
    const managementPort = await freeTcpPort();
    const file = await writeRelayConfig(join(dir, 'connect'), {
      site: 'site-a',
      failmode: 'secure',
      edgeUrls: [`https://${hidden}`],
      radiusPort,
      managementPort,
      edgeExtraToml: `proxy = "${proxy.url}"`,
      logLevel: 'info',
    });
    const relay = await spawnRelay(file, managementPort, 30_000, {
      ...RELAY_FROM_CHECKOUT,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: ca },
    });
    const client = await RadiusLoginClient.open({ port: radiusPort, secret: STACK_RADIUS_SECRET, lanes: 1 });
    try {
      const since = Date.now();
      const r = await client.login(
        { username: 'carol', password: 'carol-pass', callingStationId: '192.0.2.30' },
        { timeoutMs: 20_000 },
      );
      expect(CODE_NAME[r.replies[0]!.code], `${r.replies[0]!.replyMessage}\n${relay.output()}`).toBe('Accept');
      expect(proxy.seen).toContain(`CONNECT ${hidden}`);
      expect(proxy.seen.every((line) => line === `CONNECT ${hidden}`)).toBe(true);
      // One tunnel carried every call, each as an h2 stream, as with Cloudflare's edge.
      expect(proxy.seen.length).toBe(1);
      expect(edge.versions.length).toBeGreaterThan(0);
      expect(edge.versions.every((v) => v === '2.0')).toBe(true);
      expect(
        (await stack.decisions({ site: 'site-a', user: 'carol', from: since })).some(
          (d) => d.client_ip === '192.0.2.30' && d.source === 'duo',
        ),
      ).toBe(true);
    } finally {
      await client.close();
      await relay.stop();
      await proxy.close();
      await new Promise((resolve) => edge.server.close(resolve));
    }
  }, 120_000);
});

/** TLS and h2 in front of the workerd edge (which speaks plain HTTP/1.1), as a real deployment has. */
async function startTlsFront(
  tlsDir: string,
  edge: URL,
): Promise<{ server: Http2SecureServer; port: number; versions: string[] }> {
  const versions: string[] = [];
  // Connection-specific headers exist in HTTP/1.1 only; h2 forbids them.
  const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);
  const server = createSecureServer(
    { cert: await readFile(join(tlsDir, 'server.pem')), key: await readFile(join(tlsDir, 'server.key')) },
    (req, res) => {
      versions.push(req.httpVersion);
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !k.startsWith(':')));
      const up = request(
        {
          host: edge.hostname,
          port: edge.port,
          method: req.method,
          path: req.url,
          headers: { ...headers, host: edge.host },
        },
        (answer) => {
          const out = Object.fromEntries(Object.entries(answer.headers).filter(([k]) => !hopByHop.has(k)));
          res.writeHead(answer.statusCode ?? 502, out);
          answer.pipe(res);
        },
      );
      up.once('error', () => res.writeHead(502).end());
      req.pipe(up);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, versions };
}
