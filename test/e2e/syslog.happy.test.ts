import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RadclientReply, radclient } from '../support/radclient.ts';
import { makeCertificates } from '../support/slapd.ts';
import {
  type DuoAndEdge,
  freeTcpPort,
  freeUdpPort,
  type RelayProcess,
  STACK_RADIUS_SECRET,
  scrapeMetric,
  spawnRelay,
  stackDir,
  startDuoAndEdge,
  waitFor,
  writeRelayConfig,
} from '../support/stack.ts';
import { type SyslogReceiver, startSyslogReceiver } from '../support/syslog-receiver.ts';

/**
 * `duo-relay start` with `[log] syslog` ships one RFC 5424 message per auth event to a real
 * receiver (UDP, TCP, TLS); JSON stays on stdout; a receiver that is down never holds a login up.
 */

let stack: DuoAndEdge;
let dir: string;
const running: Array<{ stop(ms?: number): Promise<unknown> }> = [];

beforeAll(async () => {
  stack = await startDuoAndEdge({ emulator: { pushDelayMs: 20 } });
  dir = await stackDir('syslog');
}, 60_000);

afterAll(async () => {
  for (const r of running.reverse()) await r.stop(2000);
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function relayWith(name: string, logLines: string): Promise<{ relay: RelayProcess; port: number }> {
  const port = await freeUdpPort();
  const management = await freeTcpPort();
  const file = await writeRelayConfig(join(dir, name), {
    site: 'site-a',
    failmode: 'safe',
    edgeUrls: [stack.edgeUrl],
    radiusPort: port,
    managementPort: management,
    logLevel: 'info',
    logLines,
  });
  const relay = await spawnRelay(file, management);
  running.push(relay);
  return { relay, port };
}

function login(port: number, user: string, password: string): Promise<RadclientReply> {
  return radclient({
    port,
    secret: STACK_RADIUS_SECRET,
    attributes: [`User-Name = "${user}"`, `User-Password = "${password}"`, 'Calling-Station-Id = "198.51.100.9"'],
    timeoutS: 10,
    retries: 1,
  });
}

const SD = /^<(\d+)>1 \S+ \S+ duo-relay \d+ auth_event \[auth_event@32473 (.*)\] \uFEFF(\{.*\})$/s;

function expectAuthEvent(message: string | undefined, user: string, result: string) {
  const m = SD.exec(message ?? '');
  expect(m, message).not.toBeNull();
  expect(m![2]).toContain(`user="${user}"`);
  expect(m![2]).toContain(`result="${result}"`);
  expect(JSON.parse(m![3]!)).toMatchObject({ msg: 'auth_event', user, result });
  return Number(m![1]);
}

const receivers: SyslogReceiver[] = [];
afterAll(async () => {
  for (const r of receivers) await r.close();
});

describe('auth events to syslog from a real relay', () => {
  it('udp: one message per auth event, facility from syslog_facility; JSON still on stdout; no password', async () => {
    const rx = await startSyslogReceiver('udp');
    receivers.push(rx);
    const { relay, port } = await relayWith(
      'udp',
      `syslog = "udp://127.0.0.1:${rx.port}"\nsyslog_facility = "LOG_AUTHPRIV"`,
    );
    expect((await login(port, 'alice', 'alice-pass')).code).toBe('Access-Accept');
    expect((await login(port, 'bob', 'wrong-pass')).code).toBe('Access-Reject');
    await waitFor(() => rx.messages.length >= 2, 5000, 'two syslog datagrams');
    expect(expectAuthEvent(rx.messages[0], 'alice', 'allow')).toBe(10 * 8 + 6);
    expect(expectAuthEvent(rx.messages[1], 'bob', 'deny')).toBe(10 * 8 + 5);
    expect(rx.messages.join('\n')).not.toMatch(/alice-pass|wrong-pass/);
    await waitFor(() => relay.output().includes('"msg":"auth_event"'), 5000, 'the JSON auth_event on stdout');
  });

  it('tls: octet-counted messages to a receiver whose certificate syslog_ca_file vouches for', async () => {
    const certDir = join(dir, 'certs');
    await mkdir(certDir, { recursive: true });
    const ca = await makeCertificates(certDir);
    const rx = await startSyslogReceiver('tls', { certDir });
    receivers.push(rx);
    const { port } = await relayWith('tls', `syslog = "tls://127.0.0.1:${rx.port}"\nsyslog_ca_file = "${ca}"`);
    for (const user of ['alice', 'carol']) expect((await login(port, user, `${user}-pass`)).code).toBe('Access-Accept');
    await waitFor(() => rx.messages.length >= 2, 5000, 'two syslog messages over TLS');
    expectAuthEvent(rx.messages[0], 'alice', 'allow');
    expectAuthEvent(rx.messages[1], 'carol', 'allow');
    expect(rx.errors).toEqual([]);
  });

  it('tcp receiver down: logins go on, the queue holds syslog_queue events, the rest are dropped and counted; reconnect delivers the queue', async () => {
    const rxPort = await freeTcpPort();
    const { relay, port } = await relayWith('tcp-down', `syslog = "tcp://127.0.0.1:${rxPort}"\nsyslog_queue = 2`);
    for (const user of ['alice', 'carol', 'alice', 'carol']) {
      expect((await login(port, user, `${user}-pass`)).code).toBe('Access-Accept');
    }
    expect(await scrapeMetric(relay.managementUrl, 'duo_relay_syslog_dropped_total')).toBe(2);
    const rx = await startSyslogReceiver('tcp', { port: rxPort });
    receivers.push(rx);
    await waitFor(() => rx.messages.length >= 2, 40_000, 'the queued events after reconnect');
    expectAuthEvent(rx.messages[0], 'alice', 'allow');
    expectAuthEvent(rx.messages[1], 'carol', 'allow');
    expect((await login(port, 'alice', 'alice-pass')).code).toBe('Access-Accept');
    await waitFor(() => rx.messages.length === 3, 5000, 'the next event');
  }, 90_000);
});
