import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPLY } from '@duo-edge/contract/messages';
import { Client, InvalidCredentialsError } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayRuntime } from '../../local-relay/src/cli/runtime.ts';
import type { FlowDecision } from '../../local-relay/src/flow/index.ts';
import { type LdapTool, ldapsearch, ldapwhoami, writeLdapProxyConfig } from '../support/ldap-proxy.ts';
import { makeCertificates, type Slapd, startSlapd } from '../support/slapd.ts';
import { type DuoAndEdge, freeTcpPort, freeUdpPort, startDuoAndEdge, startRelayInProcess } from '../support/stack.ts';

/**
 * The LDAP proxy end to end: Debian's ldapwhoami / ldapsearch and ldapts as the application, the
 * relay's [[ldap_server]] in front of a real slapd, the edge in workerd and the Duo emulator.
 * Section 1 (port `plain`) has exempt_primary_bind off and ou=services exempt; section 2 (port
 * `firstExempt`) has exempt_primary_bind on.
 */

const BULK = 1600;
const WHOAMI = '1.3.6.1.4.1.4203.1.11.3';
let slapd: Slapd;
let stack: DuoAndEdge;
let relay: RelayRuntime;
let relayB: RelayRuntime;
let dir: string;
let certDir: string;
const decisions: FlowDecision[] = [];
const ports = { plain: 0, ldaps: 0, firstExempt: 0, siteB: 0 };

const dn = (user: string) => `uid=${user},ou=people,dc=example,dc=org`;
const tool = (extra: Partial<LdapTool> = {}): LdapTool => ({
  url: `ldap://127.0.0.1:${ports.plain}`,
  caFile: join(certDir, 'ca.pem'),
  ...extra,
});
const duoCalls = (user: string) =>
  stack.emulator.state.requests.filter((r) => r.params.username?.[0] === user || r.params.user?.[0] === user);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ldap-proxy-e2e-'));
  certDir = join(dir, 'certs');
  await mkdir(certDir);
  [slapd, stack] = await Promise.all([startSlapd({ bulkEntries: BULK }), startDuoAndEdge(), makeCertificates(certDir)]);
  ports.plain = await freeTcpPort();
  ports.ldaps = await freeTcpPort();
  ports.firstExempt = await freeTcpPort();
  const file = await writeLdapProxyConfig(dir, {
    site: 'site-a',
    failmode: 'safe',
    edgeUrls: [stack.edgeUrl],
    radiusPort: await freeUdpPort(),
    preauthTimeoutMs: 5_000,
    authTimeoutMs: 20_000,
    slapd,
    ldapPort: ports.plain,
    ldapsPort: ports.ldaps,
    certDir,
    section: ['exempt_ou = ["ou=services,dc=example,dc=org"]'],
    extraSections: [`[[ldap_server]]\nlisten = ["127.0.0.1:${ports.firstExempt}"]\nexempt_primary_bind = true`],
  });
  relay = await startRelayInProcess(file, { onDecision: (d) => void decisions.push(d) });
  // site-b's policy factors are push, passcode: the second cannot apply to a bind.
  ports.siteB = await freeTcpPort();
  const fileB = await writeLdapProxyConfig(join(dir, 'site-b'), {
    site: 'site-b',
    failmode: 'secure',
    edgeUrls: [stack.edgeUrl],
    radiusPort: await freeUdpPort(),
    preauthTimeoutMs: 5_000,
    authTimeoutMs: 20_000,
    slapd,
    ldapPort: ports.siteB,
  });
  relayB = await startRelayInProcess(fileB);
}, 120_000);

afterAll(async () => {
  await Promise.all([relay?.stop(0), relayB?.stop(0)]);
  await Promise.all([slapd?.stop(), stack?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('LDAP proxy: user binds', () => {
  it('alice (push approved) binds, and the decision is audited with the application address', async () => {
    const r = await ldapwhoami(tool(), dn('alice'), 'alice-pass');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`dn:${dn('alice')}`);
    expect(duoCalls('alice').map((c) => c.endpoint)).toEqual(['preauth', 'auth']);
    const d = decisions.findLast((x) => x.username === 'alice');
    expect(d).toMatchObject({ result: 'allow', source: 'duo', nas_ip: '127.0.0.1', stage: 'auth' });
    const stored = await stack.decisions({ site: 'site-a', user: 'alice' });
    expect(stored[0]).toMatchObject({ result: 'allow', nas_ip: '127.0.0.1', source: 'duo' });
  });

  it('bob (push denied) gets invalidCredentials with the reason, and the connection stays anonymous upstream', async () => {
    const r = await ldapwhoami(tool(), dn('bob'), 'bob-pass');
    expect(r.code).toBe(49);
    expect(r.stderr).toMatch(/Invalid credentials \(49\)/);
    expect(r.stderr).toMatch(/additional info: .+/);

    const client = new Client({ url: `ldap://127.0.0.1:${ports.plain}`, timeout: 30_000 });
    try {
      await expect(client.bind(dn('bob'), 'bob-pass')).rejects.toBeInstanceOf(InvalidCredentialsError);
      // Same connection: the directory had accepted bob's password, the relay's reset undid it.
      expect((await client.exop(WHOAMI)).value ?? '').toBe('');
    } finally {
      await client.unbind();
    }
  });

  it('a wrong password gets the directory answer (49) and Duo is never asked', async () => {
    stack.emulator.state.requests = [];
    const r = await ldapwhoami(tool(), dn('carol'), 'not-carols-password');
    expect(r.code).toBe(49);
    expect(r.stderr).toMatch(/Invalid credentials \(49\)/);
    // slapd's own answer carries no diagnostic; the relay's denials always do.
    expect(r.stderr).not.toMatch(/additional info/);
    expect(duoCalls('carol')).toEqual([]);
    expect(stack.emulator.state.requests).toEqual([]);
  });

  it('the ,123456 suffix is frank’s passcode (token only); without it he has no usable factor', async () => {
    expect((await ldapwhoami(tool(), dn('frank'), 'frank-pass,123456')).code).toBe(0);
    const without = await ldapwhoami(tool(), dn('frank'), 'frank-pass');
    expect(without.code).toBe(49);
  });

  it('a site whose factors include passcode: a token-only user without a suffix has no usable factor', async () => {
    const r = await ldapwhoami(tool({ url: `ldap://127.0.0.1:${ports.siteB}` }), dn('frank'), 'frank-pass');
    expect(r.code).toBe(49);
    expect(r.stderr).toContain(`additional info: ${REPLY.noFactors}`);
    expect(
      (await ldapwhoami(tool({ url: `ldap://127.0.0.1:${ports.siteB}` }), dn('frank'), 'frank-pass,123456')).code,
    ).toBe(0);
  });

  it('a bind DN under exempt_ou skips Duo after the directory accepted it', async () => {
    stack.emulator.state.requests = [];
    const r = await ldapwhoami(tool(), slapd.serviceDn, slapd.servicePassword);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`dn:${slapd.serviceDn}`);
    expect(stack.emulator.state.requests).toEqual([]);
    expect(decisions.findLast((x) => x.username === slapd.serviceDn)).toMatchObject({
      result: 'allow',
      source: 'exempt',
    });
  });

  it('exempt_primary_bind off: the first bind on a connection goes to Duo too', async () => {
    expect((await ldapwhoami(tool(), dn('bob'), 'bob-pass')).code).toBe(49);
  });

  it('exempt_primary_bind on: the first bind skips Duo, the next one on the connection does not', async () => {
    const client = new Client({ url: `ldap://127.0.0.1:${ports.firstExempt}`, timeout: 30_000 });
    try {
      await client.bind(dn('bob'), 'bob-pass');
      expect((await client.exop(WHOAMI)).value).toBe(`dn:${dn('bob')}`);
      await expect(client.bind(dn('bob'), 'bob-pass')).rejects.toBeInstanceOf(InvalidCredentialsError);
      expect((await client.exop(WHOAMI)).value ?? '').toBe('');
    } finally {
      await client.unbind();
    }
  });

  it('SASL binds are refused when not exempt', async () => {
    const client = new Client({ url: `ldap://127.0.0.1:${ports.plain}`, timeout: 30_000 });
    try {
      await expect(client.bind('PLAIN', 'alice')).rejects.toMatchObject({
        code: 7,
        message: expect.stringContaining('SASL binds are not accepted'),
      });
    } finally {
      await client.unbind();
    }
  });
});

describe('LDAP proxy: TLS', () => {
  it('StartTLS with the relay certificate', async () => {
    const r = await ldapwhoami(tool({ startTls: true }), dn('alice'), 'alice-pass');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`dn:${dn('alice')}`);
  });

  it('LDAPS with the relay certificate', async () => {
    const r = await ldapwhoami(tool({ url: `ldaps://127.0.0.1:${ports.ldaps}` }), dn('alice'), 'alice-pass');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`dn:${dn('alice')}`);
  });

  it('StartTLS is refused on a listener without a certificate', async () => {
    const r = await ldapwhoami(
      tool({ url: `ldap://127.0.0.1:${ports.firstExempt}`, startTls: true }),
      dn('alice'),
      'alice-pass',
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Protocol error|StartTLS/i);
  });
});

describe('LDAP proxy: searches pass through unchanged', () => {
  const svc = () => ({ dn: slapd.serviceDn, password: slapd.servicePassword });
  const base = ['-b', 'ou=bulk,dc=example,dc=org', '(objectClass=inetOrgPerson)'];

  it(`a search of ${BULK} entries is identical through the relay and directly`, async () => {
    const [via, direct] = await Promise.all([
      ldapsearch(tool(), svc(), base),
      ldapsearch({ url: slapd.ldapUrl }, svc(), base),
    ]);
    expect(via.code).toBe(0);
    expect(direct.code).toBe(0);
    expect(via.stdout.match(/^dn: /gm)).toHaveLength(BULK);
    expect(via.stdout).toBe(direct.stdout);
  }, 60_000);

  it('a paged search (simple paged results control) is identical through the relay and directly', async () => {
    const paged = ['-E', 'pr=250/noprompt', ...base];
    const [via, direct] = await Promise.all([
      ldapsearch(tool(), svc(), paged),
      ldapsearch({ url: slapd.ldapUrl }, svc(), paged),
    ]);
    expect(via.code).toBe(0);
    // Page cookies differ between connections; the pages themselves must not.
    const strip = (s: string) => s.replace(/^# pagedresults: cookie=.*$/gm, '');
    expect(via.stdout.match(/^dn: /gm)).toHaveLength(BULK);
    expect(strip(via.stdout)).toBe(strip(direct.stdout));
  }, 60_000);

  it('a user verified by Duo searches with their own identity', async () => {
    const r = await ldapsearch(tool(), { dn: dn('alice'), password: 'alice-pass' }, [
      '-b',
      dn('carol'),
      '-s',
      'base',
      'uid',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('uid: carol');
  });
});
