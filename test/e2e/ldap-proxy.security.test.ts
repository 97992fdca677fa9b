import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayRuntime } from '../../local-relay/src/cli/runtime.ts';
import { tlv } from '../../local-relay/src/ldap/ber.ts';
import { encodeSimpleBind } from '../../local-relay/src/ldap/message.ts';
import { ldapwhoami, writeLdapProxyConfig } from '../support/ldap-proxy.ts';
import { type Slapd, startSlapd } from '../support/slapd.ts';
import { freeTcpPort, freeUdpPort, startRelayInProcess, waitFor } from '../support/stack.ts';

/**
 * The LDAP listener as an attacker meets it: malformed, oversized and deeply nested messages close
 * that connection only (counted; the relay and other connections go on), connections over the
 * per-address limit are refused, idle ones are dropped.
 */

let slapd: Slapd;
let dir: string;
let relay: RelayRuntime;
let port: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldap-proxy-security-'));
  slapd = await startSlapd();
  port = await freeTcpPort();
  const file = await writeLdapProxyConfig(dir, {
    site: 'site-b',
    failmode: 'secure',
    edgeUrls: [`http://127.0.0.1:${await freeTcpPort()}`],
    radiusPort: await freeUdpPort(),
    preauthTimeoutMs: 1_000,
    authTimeoutMs: 2_000,
    slapd,
    ldapPort: port,
    section: [
      'exempt_ou = ["ou=services,dc=example,dc=org"]',
      'max_connections_per_ip = 4',
      'idle_timeout_ms = 1500',
      'max_message_bytes = 4096',
    ],
  });
  relay = await startRelayInProcess(file, { waitForPolicyMs: 0 });
}, 60_000);

afterAll(async () => {
  await relay?.stop(0);
  await slapd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const events = async (event: string) => {
  const text = await relay.metrics.registry.metrics();
  const m = new RegExp(`duo_relay_ldap_events_total\\{event="${event}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
};

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends `bytes`; resolves with what came back once the relay closed the connection. */
function sendAndWaitClose(bytes: Uint8Array, timeoutMs = 5_000): Promise<{ closed: boolean; received: Buffer }> {
  return new Promise((resolve, reject) => {
    open().then((s) => {
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('error', () => {});
      const timer = setTimeout(() => {
        s.destroy();
        resolve({ closed: false, received: Buffer.concat(chunks) });
      }, timeoutMs);
      s.on('close', () => {
        clearTimeout(timer);
        resolve({ closed: true, received: Buffer.concat(chunks) });
      });
      s.write(bytes);
    }, reject);
  });
}

const stillServes = async () =>
  expect((await ldapwhoami({ url: `ldap://127.0.0.1:${port}` }, slapd.serviceDn, slapd.servicePassword)).code).toBe(0);

describe('LDAP listener: malformed input closes that connection only', () => {
  const nested = (depth: number): Uint8Array => {
    let inner: Uint8Array = tlv(0x04, new Uint8Array(0));
    for (let i = 0; i < depth; i++) inner = tlv(0xa0, inner);
    return tlv(0x30, tlv(0x02, Uint8Array.of(1)), tlv(0x63, inner));
  };
  const cases: Array<[string, Uint8Array]> = [
    ['indefinite length', Uint8Array.of(0x30, 0x80, 0x02, 0x01, 0x01, 0x42, 0x00, 0x00, 0x00)],
    ['not a SEQUENCE', Uint8Array.of(0x31, 0x03, 0x02, 0x01, 0x01)],
    ['a 5-byte length', Uint8Array.of(0x30, 0x85, 0x00, 0x00, 0x00, 0x00, 0x05)],
    ['an announced 2 GB message', Uint8Array.of(0x30, 0x84, 0x7f, 0xff, 0xff, 0xff)],
    ['a negative message ID', Uint8Array.of(0x30, 0x05, 0x02, 0x01, 0xff, 0x42, 0x00)],
    ['an element overrunning its parent', Uint8Array.of(0x30, 0x05, 0x02, 0x05, 0x01, 0x42, 0x00)],
    ['a filter nested 40 deep', nested(40)],
    [
      'a BindRequest without credentials',
      tlv(0x30, tlv(0x02, Uint8Array.of(1)), tlv(0x60, tlv(0x02, Uint8Array.of(3)))),
    ],
  ];

  it.each(cases)('%s', async (_name, bytes) => {
    const before = await events('malformed_request');
    const r = await sendAndWaitClose(bytes);
    expect(r.closed).toBe(true);
    expect(r.received.length).toBe(0);
    expect(await events('malformed_request')).toBe(before + 1);
    await stillServes();
  });

  it('a request over max_message_bytes is refused from its header', async () => {
    const big = encodeSimpleBind(1, new TextEncoder().encode('x'.repeat(5000)), new Uint8Array(1));
    const r = await sendAndWaitClose(big.subarray(0, 8));
    expect(r.closed).toBe(true);
    await stillServes();
  });
});

describe('LDAP listener: connection limits and idle timeout', () => {
  it('refuses connections over max_connections_per_ip and counts them', async () => {
    const held = await Promise.all([open(), open(), open(), open()]);
    for (const s of held) s.on('error', () => {});
    try {
      const before = await events('rejected_limit_per_ip');
      const r = await sendAndWaitClose(new Uint8Array(0), 3_000);
      expect(r.closed).toBe(true);
      expect(await events('rejected_limit_per_ip')).toBe(before + 1);
    } finally {
      for (const s of held) s.destroy();
    }
    await waitFor(
      async () =>
        (await ldapwhoami({ url: `ldap://127.0.0.1:${port}` }, slapd.serviceDn, slapd.servicePassword)).code === 0,
      5_000,
      'a free slot',
    );
  });

  it('drops an idle connection after idle_timeout_ms', async () => {
    const before = await events('idle_timeout');
    const r = await sendAndWaitClose(new Uint8Array(0), 6_000);
    expect(r.closed).toBe(true);
    expect(await events('idle_timeout')).toBe(before + 1);
  });
});
