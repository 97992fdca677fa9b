import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayRuntime } from '../../local-relay/src/cli/runtime.ts';
import type { FlowDecision } from '../../local-relay/src/flow/index.ts';
import { REPLY } from '../../src/failmode/messages.ts';
import { ldapwhoami, writeLdapProxyConfig } from '../support/ldap-proxy.ts';
import { type Slapd, startSlapd } from '../support/slapd.ts';
import { freeTcpPort, freeUdpPort, startRelayInProcess } from '../support/stack.ts';

/**
 * The LDAP proxy when the edge cannot be reached (nothing listens on its URL): the relay's own
 * failmode, the same table as RADIUS. safe fails open only after the directory accepted the
 * password; secure answers invalidCredentials with the failmode's message.
 */

let slapd: Slapd;
let dir: string;
const relays: RelayRuntime[] = [];
const decisions: FlowDecision[] = [];
const dn = (user: string) => `uid=${user},ou=people,dc=example,dc=org`;

async function relayFor(failmode: 'safe' | 'secure', extra: string[] = [], primaryHosts?: string): Promise<number> {
  const ldapPort = await freeTcpPort();
  const sub = join(dir, `${failmode}-${ldapPort}`);
  const file = await writeLdapProxyConfig(sub, {
    site: failmode === 'safe' ? 'site-a' : 'site-b',
    failmode,
    edgeUrls: [`http://127.0.0.1:${await freeTcpPort()}`],
    radiusPort: await freeUdpPort(),
    preauthTimeoutMs: 1_000,
    authTimeoutMs: 2_000,
    slapd: primaryHosts ? { ...slapd, ldapsUrl: primaryHosts } : slapd,
    ldapPort,
    section: extra,
  });
  relays.push(await startRelayInProcess(file, { waitForPolicyMs: 0, onDecision: (d) => void decisions.push(d) }));
  return ldapPort;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldap-proxy-error-'));
  slapd = await startSlapd();
}, 60_000);

afterAll(async () => {
  await Promise.all(relays.map((r) => r.stop(0)));
  await slapd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('LDAP proxy with the edge unreachable', () => {
  it('safe site: a bind the directory accepted is allowed by the relay failmode, and journalled', async () => {
    const port = await relayFor('safe');
    const r = await ldapwhoami({ url: `ldap://127.0.0.1:${port}` }, dn('bob'), 'bob-pass');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`dn:${dn('bob')}`);
    expect(decisions.findLast((d) => d.user === 'bob')).toMatchObject({
      result: 'allow',
      source: 'failmode-relay',
      stage: 'preauth',
      reason: REPLY.failSafeAllowed,
      nasIp: '127.0.0.1',
    });
    const journal = relays.at(-1)!.journal.journal;
    expect(journal.depth()).toBeGreaterThan(0);
  });

  it('safe site: a wrong password is still the directory answer, never a failmode allow', async () => {
    const port = await relayFor('safe');
    const r = await ldapwhoami({ url: `ldap://127.0.0.1:${port}` }, dn('bob'), 'wrong');
    expect(r.code).toBe(49);
    expect(r.stderr).not.toContain(REPLY.failSafeAllowed);
  });

  it('secure site: invalidCredentials with the failmode message; the connection is anonymous again', async () => {
    const port = await relayFor('secure');
    const r = await ldapwhoami({ url: `ldap://127.0.0.1:${port}` }, dn('alice'), 'alice-pass');
    expect(r.code).toBe(49);
    expect(r.stderr).toContain(`additional info: ${REPLY.failSecureDenied}`);
    expect(decisions.findLast((d) => d.user === 'alice')).toMatchObject({
      result: 'deny',
      source: 'failmode-relay',
      reason: REPLY.failSecureDenied,
    });
  });

  it('allow_unlimited_binds off: a second bind after a verified one ends the connection', async () => {
    const port = await relayFor('safe');
    const client = new Client({ url: `ldap://127.0.0.1:${port}`, timeout: 10_000 });
    try {
      await client.bind(dn('alice'), 'alice-pass');
      await expect(client.bind(dn('carol'), 'carol-pass')).rejects.toMatchObject({ code: 53 });
    } finally {
      await client.unbind().catch(() => {});
    }
  });

  it('directory unreachable: the application is disconnected and the event counted', async () => {
    const port = await relayFor('safe', [], `ldaps://127.0.0.1:${await freeTcpPort()}`);
    const r = await ldapwhoami({ url: `ldap://127.0.0.1:${port}` }, dn('alice'), 'alice-pass');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    const text = await relays.at(-1)!.metrics.registry.metrics();
    expect(text).toMatch(/duo_relay_ldap_events_total\{event="upstream_unreachable"\} [1-9]/);
  });
});
