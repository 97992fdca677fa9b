import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { proxyHop } from '../../local-relay/src/config/edge-proxy.ts';
import { ConfigError } from '../../local-relay/src/config/errors.ts';
import { loadConfig } from '../../local-relay/src/config/load.ts';
import type { EdgeRequest } from '../../local-relay/src/edge/http/exchange.ts';
import { createEdgeTransport } from '../../local-relay/src/edge/http/transport.ts';
import { bypassesProxy } from '../../local-relay/src/edge/proxy.ts';
import { refusalCode } from '../../local-relay/src/edge/refusal-code.ts';
import { transportFailure } from '../../local-relay/src/edge/transport.ts';
import { freeTcpPort } from '../support/wait.ts';

const EDGE_PUB = '1qqkDF2RF7alHF-OSMP9hJnANsTQD3XAwBnfbD856jA';
const SECRET = 'egress:do-not-log-me';

const config = (edgeLines: string) => `
[relay]
site = "site-a"
key_file = "relay.key"

[edge]
urls = ["https://edge.example.com"]
public_key = "${EDGE_PUB}"
${edgeLines}

[[server]]
mode = "duo_only"
listen = ["127.0.0.1:1812"]
duo_only_failopen_acknowledged = true

[[server.client]]
name = "vpn"
ip = "10.0.0.0/24"
secret = "a-long-enough-secret-value"
`;

async function load(edgeLines: string) {
  const dir = await mkdtemp(join(tmpdir(), 'edge-proxy-'));
  const file = join(dir, 'relay.toml');
  await writeFile(file, config(edgeLines));
  return loadConfig(file, { PROXY_CREDENTIALS: SECRET, BAD_CREDENTIALS: 'no-colon-here' });
}

async function problems(edgeLines: string) {
  const error = await load(edgeLines).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems;
}

describe('[edge] proxy config', () => {
  it('takes a proxy with credentials from a secret reference and a no_proxy list', async () => {
    const { config: c } = await load(
      'proxy = "http://proxy.corp.example:3128"\nproxy_credentials = { env = "PROXY_CREDENTIALS" }\nno_proxy = [".corp.example", "10.1.2.3"]',
    );
    expect(c.edge).toMatchObject({
      proxy: 'http://proxy.corp.example:3128',
      proxy_credentials: SECRET,
      no_proxy: ['.corp.example', '10.1.2.3'],
    });
    expect(proxyHop(c.edge, 'https://edge.example.com')).toBe(
      'via proxy http://proxy.corp.example:3128 (CONNECT, with edge.proxy_credentials)',
    );
    expect(proxyHop(c.edge, 'https://edge.corp.example')).toBe('direct (edge.no_proxy)');
    expect(proxyHop(c.edge, 'https://edge.example.com')).not.toContain(SECRET);
  });

  it.each([
    ['proxy = "http://user:pass@proxy:3128"', 'edge.proxy', 'proxy_credentials'],
    ['proxy = "https://proxy:3128"', 'edge.proxy', 'http://host:port'],
    ['proxy = "http://proxy"', 'edge.proxy', 'http://host:port'],
    ['proxy_credentials = { env = "PROXY_CREDENTIALS" }', 'edge.proxy_credentials', 'only with edge.proxy'],
    ['no_proxy = ["edge.example.com"]', 'edge.no_proxy', 'only with edge.proxy'],
    ['proxy = "http://proxy:3128"\nno_proxy = ["bad host/"]', 'edge.no_proxy[0]', 'host name'],
    [
      'proxy = "http://proxy:3128"\nproxy_credentials = { env = "BAD_CREDENTIALS" }',
      'edge.proxy_credentials',
      'user:password',
    ],
  ])('refuses %s naming the key', async (lines, path, text) => {
    const found = await problems(lines);
    expect(found.map((p) => p.path)).toEqual([path]);
    expect(found[0]!.message).toContain(text);
    expect(JSON.stringify(found)).not.toContain('no-colon-here');
  });
});

describe('no_proxy', () => {
  it('matches exact hosts, .suffixes with their subdomains, and IPs exactly', () => {
    const list = ['.corp.example', 'edge.example.com', '10.1.2.3', '::1'];
    expect(bypassesProxy('a.b.corp.example', list)).toBe(true);
    expect(bypassesProxy('corp.example', list)).toBe(true);
    expect(bypassesProxy('EDGE.example.com', list)).toBe(true);
    expect(bypassesProxy('[::1]', list)).toBe(true);
    expect(bypassesProxy('evilcorp.example', list)).toBe(false);
    expect(bypassesProxy('edge.example.com.evil.net', list)).toBe(false);
    expect(bypassesProxy('10.1.2.30', list)).toBe(false);
  });

  it('sends a listed host directly and everything else to the proxy', async () => {
    const direct: string[] = [];
    const edge = createServer((req, res) => {
      direct.push(String(req.url));
      res.end('direct');
    });
    await new Promise<void>((r) => edge.listen(0, '127.0.0.1', r));
    const port = await freeTcpPort();
    const t = createEdgeTransport({
      proxy: { url: `http://127.0.0.1:${port}`, noProxy: ['127.0.0.1'] },
      maxStreams: 8,
    });
    try {
      const listed = `http://127.0.0.1:${(edge.address() as { port: number }).port}/v1/health`;
      const res = await t.request(get(listed));
      expect(new TextDecoder().decode(res.body as Uint8Array)).toBe('direct');
      // Not listed: the (absent) proxy is tried, and nothing answering is a transport failure.
      const error = await t.request(get('https://edge.example.com/v1/health')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(transportFailure(error)).toMatchObject({ kind: 'transport', cause: 'refused' });
      expect(direct).toEqual(['/v1/health']);
    } finally {
      await t.close();
      await new Promise((r) => edge.close(r));
    }
  });
});

describe("the proxy's own answers", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  async function proxyAnswering(status: number): Promise<string> {
    server = createServer((_req, res) => res.writeHead(status).end('from the proxy'));
    server.on('connect', (_req, socket) => socket.end(`HTTP/1.1 ${status} Whatever\r\n\r\n`));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  it.each([
    // CONNECT (https)
    ['https://edge.example.com/v1/preauth', 407, 407, 'proxy_auth_required'],
    ['https://edge.example.com/v1/preauth', 403, 403, 'proxy_refused'],
    ['https://edge.example.com/v1/preauth', 301, 403, 'proxy_refused'],
    ['https://edge.example.com/v1/preauth', 502, 502, undefined],
    // absolute-form (http)
    ['http://127.0.0.1:9/v1/preauth', 407, 407, 'proxy_auth_required'],
    ['http://127.0.0.1:9/v1/preauth', 502, 502, undefined],
  ])('%s, proxy says %i: the relay sees %i (%s)', async (target, said, seen, code) => {
    const t = createEdgeTransport({
      proxy: { url: await proxyAnswering(said), credentials: SECRET, noProxy: [] },
      maxStreams: 8,
    });
    try {
      const res = await t.request({ ...get(target), method: 'POST', body: new Uint8Array([123, 125]) });
      expect(res.status).toBe(seen);
      expect(refusalCode(res.body as Uint8Array<ArrayBuffer>)).toBe(code);
    } finally {
      await t.close();
    }
  });
});

function get(url: string): EdgeRequest {
  return { url: new URL(url), method: 'GET', headers: {}, signal: AbortSignal.timeout(5_000), maxBytes: () => 4096 };
}
