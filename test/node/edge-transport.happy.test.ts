import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startForwardProxy } from '../support/forward-proxy.ts';
import { authFor, PREAUTH, type TransportHarness, transportHarness } from '../support/transport-harness.ts';
import { freeTcpPort, waitFor } from '../support/wait.ts';

let h: TransportHarness;
beforeAll(async () => {
  h = await transportHarness();
});
afterEach(() => h.cleanup());
afterAll(() => h.remove());
const edge: TransportHarness['edge'] = (o) => h.edge(o);
const client: TransportHarness['client'] = (urls, o) => h.client(urls, o);

describe('edge transport over HTTP/2', () => {
  it.each([
    // The server's limit binds, and ours allows no more: 20 calls queue on one connection.
    { server: 2, maxStreams: 2, perConnection: 2, total: 2, connections: 1 },
    // The server's limit binds, ours allows twice it: a second connection, each at the server's limit.
    { server: 2, maxStreams: 4, perConnection: 2, total: 4, connections: 2 },
    // Ours binds below the server's: one connection, never more than ours open.
    { server: 100, maxStreams: 3, perConnection: 3, total: 3, connections: 1 },
  ])(
    'server allows $server streams, max_streams $maxStreams: $total open at most on $connections connection(s); the rest wait',
    async (t) => {
      const e = await edge({ protocol: 'h2', maxConcurrentStreams: t.server, delayMs: 50 });
      const { c } = await client([e.url], { maxStreams: t.maxStreams });
      const results = await Promise.all(Array.from({ length: 20 }, () => c.preauth(PREAUTH)));
      expect(results.map((r) => r.kind)).toEqual(Array(20).fill('ok'));
      expect(e.requests.map((r) => r.httpVersion)).toEqual(Array(20).fill('2.0'));
      expect(e.maxOpenPerConnection()).toBe(t.perConnection);
      expect(e.maxOpen()).toBe(t.total);
      expect(e.connections()).toBe(t.connections);
    },
  );

  it('a healthy session answers its PINGs: a push held across many rounds gets its answer on the same connection', async () => {
    const e = await edge({ protocol: 'h2', holdAuth: true });
    const { c } = await client([e.url], { ping: { everyMs: 100, timeoutMs: 500 } });
    const push = c.auth(authFor(1));
    await waitFor(() => e.held() === 1, 5_000, 'the push held');
    // Ten rounds span more than one answer timeout: a session that ignored the answers would be gone.
    await waitFor(() => e.pings() >= 10, 5_000, 'ten PING rounds');
    e.release();
    expect((await push).kind).toBe('ok');
    expect(e.connections()).toBe(1);
  });

  it('a reload that drops an edge URL lets the call under way finish on its connection', async () => {
    const e = await edge({ protocol: 'h2', holdAuth: true });
    const { c, transport } = await client([e.url]);
    const pending = c.auth(authFor(1));
    await waitFor(async () => e.held() === 1, 5_000, 'the push held');
    transport.retain([]);
    e.release();
    expect((await pending).kind).toBe('ok');
    // The next call to that URL opens a connection of its own.
    expect((await c.preauth(PREAUTH)).kind).toBe('ok');
    expect(e.connections()).toBe(2);
  });

  it('goes CONNECT → TLS → h2 through the outbound proxy, nothing around it', async () => {
    const e = await edge({ protocol: 'h2' });
    const hidden = `localhost:${await freeTcpPort()}`;
    const proxy = await startForwardProxy({ routes: { [hidden]: new URL(e.url).host } });
    try {
      const { c } = await client([`https://${hidden}`], { proxy: { url: proxy.url, noProxy: [] } });
      for (let i = 0; i < 3; i++) expect((await c.preauth(PREAUTH)).kind).toBe('ok');
      expect(proxy.seen).toEqual([`CONNECT ${hidden}`]);
      expect(e.requests.map((r) => r.httpVersion)).toEqual(['2.0', '2.0', '2.0']);
    } finally {
      await proxy.close();
    }
  });
});

describe('edge transport over HTTP/1.1 (no h2 offered, or plain http on loopback)', () => {
  it.each(['https', 'http'] as const)('%s: sequential calls reuse one kept-alive connection', async (protocol) => {
    const e = await edge({ protocol });
    const { c } = await client([e.url]);
    for (let i = 0; i < 3; i++) expect((await c.preauth(PREAUTH)).kind).toBe('ok');
    expect(e.requests.map((r) => r.httpVersion)).toEqual(['1.1', '1.1', '1.1']);
    expect(e.connections()).toBe(1);
  });
});
