import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateKeyPair } from '@duo-edge/contract/ed25519';
import { REPLY } from '@duo-edge/contract/messages';
import { HEADER } from '@duo-edge/contract/signing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckLine, runChecks } from '../../local-relay/src/cli/check.ts';
import { type RelayRuntime, type RuntimeOptions, startRelay } from '../../local-relay/src/cli/runtime.ts';
import { loadConfig } from '../../local-relay/src/config/load.ts';
import { createLogger } from '../../local-relay/src/log.ts';
import { hashPassword } from '../../local-relay/src/primary/scrypt-hash.ts';
import { Attr, decodePacket, decodeText, getAttribute } from '../../local-relay/src/radius/index.ts';
import { fakeTransport } from '../support/fake-transport.ts';
import { EDGE_KEY, RELAY_A_KEY } from '../support/keys.ts';
import { buildRequest, openUdpPeer } from '../support/radclient.ts';
import { freeTcpPort } from '../support/wait.ts';

/**
 * The ops wiring of the running relay: one auth_event line per decision, metrics on the
 * management port, /readyz, the journal hook; and a revoked key (edge 401) logged as an error
 * and never failed open, since a refusal is not an outage.
 */

const SECRET = 'ops-test-radius-secret-0123';

interface Started {
  runtime: RelayRuntime;
  logs: string[];
  dir: string;
}

async function startWith(opts: Partial<RuntimeOptions>, edgeUrl: string): Promise<Started> {
  const dir = await writeConfig(edgeUrl);
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const loaded = await loadConfig(join(dir, 'relay.toml'));
  const runtime = await startRelay(loaded, { logger: createLogger('debug', stream), ...opts });
  return { runtime, logs, dir };
}

/** relay.toml, key and users file of a site-a relay in a new directory. */
async function writeConfig(edgeUrl: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-ops-'));
  await writeFile(join(dir, 'relay.key'), RELAY_A_KEY.privateKeyPem);
  await writeFile(join(dir, 'users.txt'), `alice:${await hashPassword('alice-pass')}\n`);
  await writeFile(
    join(dir, 'relay.toml'),
    `
[relay]
site = "site-a"
key_file = "relay.key"
failmode = "safe"
[edge]
urls = ["${edgeUrl}"]
public_key = "${EDGE_KEY.publicKey}"
preauth_timeout_ms = 1000
[management]
listen = "127.0.0.1:0"
[primary]
type = "users_file"
path = "users.txt"
[[server]]
mode = "auto"
listen = ["127.0.0.1:0"]
[[server.client]]
name = "loopback"
ip = "127.0.0.1"
secret = "${SECRET}"
`,
  );
  return dir;
}

async function login(runtime: RelayRuntime, user: string, password: string) {
  const peer = await openUdpPeer();
  try {
    peer.send(buildRequest({ secret: SECRET, username: user, password }).bytes, runtime.addresses[0]!.port);
    const bytes = await peer.next(10_000);
    const reply = bytes && decodePacket(bytes);
    if (!reply?.ok) throw new Error('no reply');
    const message = getAttribute(reply.value, Attr.ReplyMessage);
    return { code: reply.value.code, message: message && decodeText(message) };
  } finally {
    await peer.close();
  }
}

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
};

describe('ops wiring with the edge unreachable', () => {
  let s: Started;
  beforeAll(async () => {
    s = await startWith({}, `http://127.0.0.1:${await freeTcpPort()}`);
  });
  afterAll(async () => {
    await s?.runtime.stop(1000);
    if (s) await rm(s.dir, { recursive: true, force: true });
  });

  it('is ready once the sockets are bound, and alive', async () => {
    expect(s.runtime.managementUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await get(`${s.runtime.managementUrl}/readyz`)).toMatchObject({ status: 200 });
    expect(await get(`${s.runtime.managementUrl}/healthz`)).toMatchObject({ status: 200 });
  });

  it('a failmode login: one auth_event line, counted in /metrics, journalled (fsynced) before the reply', async () => {
    const r = await login(s.runtime, 'alice', 'alice-pass');
    expect(r).toEqual({ code: 2, message: REPLY.failSafeAllowed });
    // The journal write settled before the NAS got its reply.
    expect(s.runtime.journal.journal.depth()).toBe(1);
    const journal = await readFile(join(s.dir, 'state', 'journal', 'journal.jsonl'), 'utf8');
    expect(JSON.parse(journal.trim())).toMatchObject({ username: 'alice', source: 'failmode-relay', result: 'allow' });

    const events = s.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'auth_event');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      user: 'alice',
      result: 'allow',
      source: 'failmode-relay',
      stage: 'preauth',
      reason: REPLY.failSafeAllowed,
      server_section: 'radius_server_auto',
      level: 30,
    });
    expect(events[0].edge_failure).toMatch(/^transport/);

    const metrics = (await get(`${s.runtime.managementUrl}/metrics`)).body;
    expect(metrics).toContain('duo_relay_decisions_total{result="allow",source="failmode-relay"} 1');
    expect(metrics).toContain('duo_relay_journal_depth{site="site-a"} 1');
    expect(metrics).toMatch(
      /duo_relay_edge_request_duration_seconds_count\{stage="preauth",outcome="transport"\} [1-9]/,
    );
    expect(metrics).toMatch(/duo_relay_breaker_state\{site="site-a"\} [01]/);
    expect(metrics).toContain('duo_relay_in_flight 0');

    // A wrong password is a decision too (primary), never journalled: the edge is not involved.
    expect((await login(s.runtime, 'alice', 'wrong')).message).toBe('Primary credentials rejected');
    expect(s.runtime.journal.journal.depth()).toBe(1);
    expect((await get(`${s.runtime.managementUrl}/metrics`)).body).toContain(
      'duo_relay_decisions_total{result="deny",source="primary"} 1',
    );
    for (const line of s.logs) {
      expect(line).not.toContain('alice-pass');
      expect(line).not.toContain(SECRET);
    }
  });
});

describe('a revoked relay key', () => {
  it('edge 401: logged as an error, counted as http4xx, and the login is rejected (never fails open)', async () => {
    const refused = fakeTransport(() => ({
      status: 401,
      body: JSON.stringify({ error: { code: 'unauthorized', message: 'unknown key' } }),
    }));
    const s = await startWith({ transport: refused }, 'http://127.0.0.1:9');
    try {
      const r = await login(s.runtime, 'alice', 'alice-pass');
      expect(r.code).toBe(3);
      expect(r.message).not.toBe(REPLY.failSafeAllowed);
      const errors = s.logs.map((l) => JSON.parse(l)).filter((l) => l.level === 50);
      expect(errors.some((l) => /edge refused .*key is revoked/.test(l.msg) && l.status === 401)).toBe(true);
      const metrics = (await get(`${s.runtime.managementUrl}/metrics`)).body;
      expect(metrics).toMatch(/duo_relay_edge_request_duration_seconds_count\{stage="preauth",outcome="http4xx"\} 1/);
      expect(s.runtime.breaker.state).toBe('closed');
    } finally {
      await s.runtime.stop(1000);
      await rm(s.dir, { recursive: true, force: true });
    }
  });
});

describe('an edge that refuses the site as misconfigured', () => {
  const misconfigured = (code: string) => {
    const heartbeats: Array<{ counters: Record<string, number> }> = [];
    const edge = fakeTransport(({ url, body }) => {
      if (url.pathname === '/v1/health')
        return {
          status: 200,
          body: JSON.stringify({ ok: true, version: '1', duo: { reachable: true, checked_at: 1 } }),
        };
      if (url.pathname === '/v1/heartbeat') heartbeats.push(JSON.parse(body ? new TextDecoder().decode(body) : '{}'));
      return { status: 403, body: JSON.stringify({ error: { code, message: 'the site entry is invalid' } }) };
    });
    return { edge, heartbeats };
  };

  it('logs the code, counts it in metrics and the heartbeat, and rejects the login', async () => {
    const { edge, heartbeats } = misconfigured('site_misconfigured');
    const s = await startWith({ transport: edge }, 'http://127.0.0.1:9');
    try {
      const r = await login(s.runtime, 'alice', 'alice-pass');
      expect({ code: r.code, message: r.message }).toEqual({ code: 3, message: REPLY.failSecureDenied });
      const errors = s.logs.map((l) => JSON.parse(l)).filter((l) => l.level === 50);
      expect(errors).toContainEqual(
        expect.objectContaining({
          stage: 'preauth',
          code: 'site_misconfigured',
          msg: 'edge refused: site_misconfigured — fix the site entry in SITES_CONFIG',
        }),
      );
      const metrics = (await get(`${s.runtime.managementUrl}/metrics`)).body;
      expect(metrics).toMatch(/duo_relay_edge_refusals_total\{stage="preauth",code="site_misconfigured"\} 1/);
      await s.runtime.heartbeat();
      expect(heartbeats.at(-1)?.counters.edge_refused_site_misconfigured).toBeGreaterThanOrEqual(1);
    } finally {
      await s.runtime.stop(1000);
      await rm(s.dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['site_misconfigured', 'edge refused: site_misconfigured — fix the site entry in SITES_CONFIG'],
    ['edge_misconfigured', 'edge refused: edge_misconfigured — fix the edge secrets (EDGE_SIGNING_KEY)'],
  ])('duo-relay check prints a line for %s', async (code, text) => {
    const dir = await writeConfig('http://127.0.0.1:9');
    try {
      const lines: CheckLine[] = [];
      const ok = await runChecks(join(dir, 'relay.toml'), (l) => lines.push(l), {
        transport: misconfigured(code).edge,
        timeoutMs: 1000,
      });
      expect(ok).toBe(false);
      expect(lines).toContainEqual({ ok: false, name: 'edge http://127.0.0.1:9 for site site-a', detail: text });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('reload (SIGHUP) and the edge connection', () => {
  it('applies key_file and pinned edge keys at once; a bad file changes nothing and says why', async () => {
    const keysSent: string[] = [];
    const edge = fakeTransport(({ headers }) => {
      keysSent.push(headers[HEADER.key] ?? '');
      return { status: 503, body: '{}' };
    });
    const dir = await writeConfig('http://127.0.0.1:9');
    const file = join(dir, 'relay.toml');
    const loaded = await loadConfig(file);
    const runtime = await startRelay(loaded, {
      logger: createLogger('silent'),
      transport: edge,
      loadConfig: () => loadConfig(file),
    });
    const lastKey = async () => {
      await runtime.heartbeat();
      return keysSent.at(-1);
    };
    try {
      expect(await lastKey()).toBe(RELAY_A_KEY.publicKey);
      const original = await readFile(file, 'utf8');
      const next = await generateKeyPair();
      await writeFile(join(dir, 'relay-next.key'), next.privateKeyPem);
      // The new key_file does not exist yet under that name: nothing may change, not even the pins.
      await writeFile(
        file,
        original
          .replace('key_file = "relay.key"', 'key_file = "missing.key"')
          .replace(`public_key = "${EDGE_KEY.publicKey}"`, `public_keys = ["${next.publicKey}"]`),
      );
      const bad = await runtime.reload();
      expect(bad).toMatchObject({ ok: false, error: expect.stringMatching(/relay\.key_file: cannot read key file/) });
      expect(await lastKey()).toBe(RELAY_A_KEY.publicKey);

      await writeFile(file, original.replace('key_file = "relay.key"', 'key_file = "relay-next.key"'));
      expect(await runtime.reload()).toEqual({ ok: true });
      expect(await lastKey()).toBe(next.publicKey);
    } finally {
      await runtime.stop(1000);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps connections only to the edge URLs a reload names; stop closes them all', async () => {
    const retained: string[][] = [];
    let closed = 0;
    const edge = {
      ...fakeTransport(() => ({ status: 503, body: '{}' })),
      retain: (urls: ReadonlyArray<string>) => void retained.push([...urls]),
      close: async () => void closed++,
    };
    const dir = await writeConfig('http://127.0.0.1:9');
    const file = join(dir, 'relay.toml');
    const runtime = await startRelay(await loadConfig(file), {
      logger: createLogger('silent'),
      transport: edge,
      loadConfig: () => loadConfig(file),
    });
    try {
      const original = await readFile(file, 'utf8');
      await writeFile(file, original.replace('"http://127.0.0.1:9"', '"http://127.0.0.1:10"'));
      expect(await runtime.reload()).toEqual({ ok: true });
      expect(retained).toEqual([['http://127.0.0.1:10']]);
      expect(closed).toBe(0);
    } finally {
      await runtime.stop(1000);
      await rm(dir, { recursive: true, force: true });
    }
    expect(closed).toBe(1);
  });
});
