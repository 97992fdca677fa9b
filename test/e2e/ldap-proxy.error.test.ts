import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPLY } from '@duo-edge/contract/messages';
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckLine, runChecks } from '../../local-relay/src/cli/check.ts';
import type { RelayRuntime } from '../../local-relay/src/cli/runtime.ts';
import type { FlowDecision } from '../../local-relay/src/flow/index.ts';
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

let lastFile = '';

async function relayFor(
  failmode: 'safe' | 'secure',
  extra: string[] = [],
  primary: Record<string, unknown> = {},
): Promise<number> {
  const ldapPort = await freeTcpPort();
  const sub = join(dir, `${failmode}-${ldapPort}`);
  const file = await writeLdapProxyConfig(sub, {
    site: failmode === 'safe' ? 'site-a' : 'site-b',
    failmode,
    edgeUrls: [`http://127.0.0.1:${await freeTcpPort()}`],
    radiusPort: await freeUdpPort(),
    preauthTimeoutMs: 1_000,
    authTimeoutMs: 2_000,
    slapd,
    primary,
    ldapPort,
    section: extra,
  });
  relays.push(await startRelayInProcess(file, { waitForPolicyMs: 0, onDecision: (d) => void decisions.push(d) }));
  lastFile = file;
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
    expect(decisions.findLast((d) => d.username === 'bob')).toMatchObject({
      result: 'allow',
      source: 'failmode-relay',
      stage: 'preauth',
      reason: REPLY.failSafeAllowed,
      nas_ip: '127.0.0.1',
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
    expect(decisions.findLast((d) => d.username === 'alice')).toMatchObject({
      result: 'deny',
      source: 'failmode-relay',
      reason: REPLY.failSecureDenied,
    });
    const client = new Client({ url: `ldap://127.0.0.1:${port}`, timeout: 10_000 });
    try {
      await expect(client.bind(dn('alice'), 'alice-pass')).rejects.toMatchObject({ code: 49 });
      expect((await client.exop('1.3.6.1.4.1.4203.1.11.3')).value ?? '').toBe('');
    } finally {
      await client.unbind().catch(() => {});
    }
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
    const port = await relayFor('safe', [], { hosts: [`ldaps://127.0.0.1:${await freeTcpPort()}`] });
    const r = await ldapwhoami({ url: `ldap://127.0.0.1:${port}` }, dn('alice'), 'alice-pass');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    const text = await relays.at(-1)!.metrics.registry.metrics();
    expect(text).toMatch(/duo_relay_ldap_events_total\{event="upstream_unreachable"\} [1-9]/);
  });
});

describe('LDAP proxy: the Duo username of a bind', () => {
  it('a DN whose first RDN is not username_attribute: the attribute read with the service account', async () => {
    const port = await relayFor('safe', [], { username_attribute: 'cn' });
    const r = await ldapwhoami({ url: `ldap://127.0.0.1:${port}` }, dn('josé'), 'jose-pass');
    expect(r.code).toBe(0);
    // uid=josé has cn: Jose; the RDN value would have been josé.
    expect(decisions.findLast((d) => d.nas_ip === '127.0.0.1' && d.username === 'Jose')).toMatchObject({
      result: 'allow',
    });
  });

  it('no username can be read: invalidCredentials after the directory accepted, and the bind undone', async () => {
    const port = await relayFor('safe', [], { username_attribute: 'description' });
    const client = new Client({ url: `ldap://127.0.0.1:${port}`, timeout: 10_000 });
    try {
      await expect(client.bind(dn('alice'), 'alice-pass')).rejects.toMatchObject({
        code: 49,
        message: expect.stringContaining('no Duo username'),
      });
      expect((await client.exop('1.3.6.1.4.1.4203.1.11.3')).value ?? '').toBe('');
    } finally {
      await client.unbind().catch(() => {});
    }
  });
});

describe('duo-relay check covers the LDAP listener', () => {
  const ldapLines = async (file: string) => {
    const lines: CheckLine[] = [];
    await runChecks(file, (l) => lines.push(l), { timeoutMs: 1_000 });
    return lines.filter((l) => l.name.startsWith('tcp ') || l.name.startsWith('ldap_server'));
  };

  it('a port served by the running relay is ok; a free one is bindable', async () => {
    const port = await relayFor('secure');
    expect(await ldapLines(lastFile)).toEqual([
      {
        ok: true,
        name: `tcp 127.0.0.1:${port}`,
        detail: 'in use by an LDAP server that answers a bind (the running relay?)',
      },
    ]);
    const free = await freeTcpPort();
    const moved = join(dir, 'moved.toml');
    await writeFile(moved, (await readFile(lastFile, 'utf8')).replace(`127.0.0.1:${port}`, `127.0.0.1:${free}`));
    expect(await ldapLines(moved)).toEqual([{ ok: true, name: `tcp 127.0.0.1:${free}`, detail: 'bindable' }]);
  });

  it('a port held by another program, and a certificate that does not load, fail', async () => {
    const other = createServer((s) => s.destroy());
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const taken = (other.address() as { port: number }).port;
    try {
      const port = await relayFor('secure');
      const bad = join(dir, 'bad.toml');
      const section = `listen = ["127.0.0.1:${taken}"]\ntls_cert_file = "${bad}"\ntls_key_file = "${bad}"`;
      await writeFile(bad, (await readFile(lastFile, 'utf8')).replace(`listen = ["127.0.0.1:${port}"]`, section));
      const lines = await ldapLines(bad);
      expect(lines.filter((l) => !l.ok).map((l) => l.name)).toEqual([
        'ldap_server[0] certificate',
        `tcp 127.0.0.1:${taken}`,
      ]);
    } finally {
      other.close();
    }
  });
});
