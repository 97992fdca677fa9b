import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isLoopbackHost,
  type ManagementServer,
  type Readiness,
  startManagementServer,
} from '../../local-relay/src/ops/management-server.ts';
import { createRelayMetrics } from '../../local-relay/src/ops/metrics.ts';

let server: ManagementServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(ready: () => Readiness = () => ({ ready: true })) {
  const metrics = createRelayMetrics({ inFlight: () => 3 });
  metrics.observeDecision({ result: 'allow', source: 'duo' });
  server = await startManagementServer({ host: '127.0.0.1', port: 0, registry: metrics.registry, ready });
  return server;
}

/** node:http rather than fetch: any method, and the HEAD body exactly as received. */
function send(
  url: string,
  method: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, signal: AbortSignal.timeout(5_000) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('management server', () => {
  it('serves Prometheus text on GET /metrics', async () => {
    const { url } = await start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const body = await res.text();
    expect(body).toContain('duo_relay_decisions_total{result="allow",source="duo"} 1');
    expect(body).toContain('duo_relay_in_flight 3');
  });

  it('answers /healthz with 200 while the process runs', async () => {
    const { url } = await start(() => ({ ready: false, reason: 'udp socket not bound' }));
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 503 and the reason until ready() flips, then 200', async () => {
    let readiness: Readiness = { ready: false, reason: 'udp socket not bound' };
    const { url } = await start(() => readiness);
    let res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ status: 'not_ready', reason: 'udp socket not bound' });

    readiness = { ready: true };
    res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
  });

  it('reports not ready, without details, when ready() throws', async () => {
    const { url } = await start(() => {
      throw new Error('internal detail /etc/duo-relay/relay.toml');
    });
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not_ready', reason: 'readiness check failed' });
  });

  it('answers 404 for unknown paths and 405 with Allow for other methods', async () => {
    const { url } = await start();
    expect((await send(`${url}/`, 'GET')).status).toBe(404);
    expect((await send(`${url}/metrics/extra`, 'GET')).status).toBe(404);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await send(`${url}/metrics`, method);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
    }
    const head = await send(`${url}/healthz`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('ignores the query string when routing', async () => {
    const { url } = await start();
    expect((await send(`${url}/healthz?verbose=1`, 'GET')).status).toBe(200);
  });

  it('refuses a non-loopback address unless allow_remote is set', async () => {
    const { registry } = createRelayMetrics({});
    const ready = () => ({ ready: true });
    for (const host of ['0.0.0.0', '::', '192.0.2.10', 'relay.example.com']) {
      await expect(startManagementServer({ host, port: 0, registry, ready })).rejects.toThrow(/allow_remote/);
    }
    server = await startManagementServer({ host: '0.0.0.0', port: 0, registry, ready, allowRemote: true });
    expect(server.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
  });

  it('classifies loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', '::FFFF:127.0.0.1', 'localhost']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '::ffff:10.0.0.1', 'fe80::1', '128.0.0.1', 'localhost.evil.com']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('fails to start with the listen error when the port is taken', async () => {
    const { url } = await start();
    const port = Number(new URL(url).port);
    const { registry } = createRelayMetrics({});
    await expect(
      startManagementServer({ host: '127.0.0.1', port, registry, ready: () => ({ ready: true }) }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
