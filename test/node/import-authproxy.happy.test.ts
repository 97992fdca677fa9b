import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importAuthproxy } from '../../local-relay/src/cli/import-authproxy.ts';
import { loadConfig } from '../../local-relay/src/config/load.ts';
import { convertAuthproxy, type ImportResult } from '../../local-relay/src/import/convert.ts';
import type { ImportNote } from '../../local-relay/src/import/section-reader.ts';
import { sitesConfigSchema } from '../../src/sites/schema.ts';
import { RELAY_A_KEY } from '../support/keys.ts';

/**
 * Sample authproxy.cfg files written from Duo's documentation, converted: relay.toml must load with
 * the relay's own loader, the site entry must pass the edge's schema, and the list of what was not
 * carried over must be exactly what the sample holds.
 */

const SAMPLES = resolve(import.meta.dirname, '../support/authproxy-samples');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'import-authproxy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function convert(sample: string): Promise<ImportResult> {
  const text = await readFile(join(SAMPLES, `${sample}.cfg`), 'utf8');
  return convertAuthproxy(text, { site: 'hq', relayPublicKey: RELAY_A_KEY.publicKey });
}

/** relay.toml as the CLI writes it, loaded by the relay's loader (placeholders given a value). */
async function load(sample: string, result: ImportResult) {
  const file = join(dir, `${sample}.toml`);
  await writeFile(file, stringify(result.relay));
  const env = Object.fromEntries(result.envPlaceholders.map((e) => [e, 'value-from-env-0123456789']));
  return (await loadConfig(file, env)).config;
}

const keysOf = (notes: ImportNote[], ...kinds: ImportNote['kind'][]) =>
  notes
    .filter((n) => kinds.includes(n.kind))
    .map((n) => `${n.section}${n.key ? ` ${n.key}` : ''}`)
    .sort();

function siteConfig(result: ImportResult) {
  return sitesConfigSchema.parse(result.site);
}

describe('import-authproxy on samples from Duo documentation', () => {
  it('Cisco ASA, Active Directory, radius_server_auto', async () => {
    const result = await convert('cisco-asa-ad-auto');
    const config = await load('cisco-asa-ad-auto', result);
    expect(config.relay).toMatchObject({ site: 'hq', failmode: 'safe' });
    expect(config.primary).toMatchObject({
      type: 'ldap',
      ldap: {
        hosts: ['10.1.10.150', '10.1.10.151'],
        transport: 'clear',
        service_account_dn: 'duoservice',
        service_account_password: 'Svc-Passw0rd!',
        search_dn: ['OU=Staff,DC=example,DC=com', 'OU=Contractors,DC=example,DC=com'],
        at_attribute: 'mail',
        security_group_dn: 'CN=VPN Users,OU=Groups,DC=example,DC=com',
      },
    });
    expect(config.server).toEqual([
      expect.objectContaining({
        mode: 'auto',
        listen: ['0.0.0.0:1812'],
        client: [
          expect.objectContaining({
            ip: '10.1.10.1',
            secret: 'AsaRadiusSecret-2024!',
            require_message_authenticator: true,
          }),
        ],
      }),
    ]);
    expect(siteConfig(result).sites.hq).toMatchObject({ integration: 'hq', failmode: 'safe' });
    expect(siteConfig(result).integrations.hq).toEqual({
      ikey: 'DIWJ8X6AEYOR5OMC6TQ1',
      skey: 'Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep',
      api_host: 'api-xxxxxxxx.duosecurity.com',
    });
    expect(keysOf(result.notes, 'unsupported', 'unknown')).toEqual([]);
    expect(keysOf(result.notes, 'changed')).toEqual([
      'ad_client auth_type',
      'ad_client transport',
      'main log_auth_events',
      'server',
    ]);
  });

  it('Palo Alto with NPS: radius_client primary, radius_server_challenge', async () => {
    const result = await convert('nps-challenge');
    const config = await load('nps-challenge', result);
    expect(config.relay.failmode).toBe('secure');
    expect(config.primary).toMatchObject({
      type: 'radius',
      radius: {
        hosts: ['10.0.0.20', '10.0.0.21:1645'],
        secret: 'NpsSharedSecret-0123456789',
        retries: 2,
        retry_wait_ms: 3000,
        pass_through_all: false,
      },
    });
    expect(config.primary?.type === 'radius' && config.primary.radius.pass_through_attr_names).toHaveLength(2);
    expect(config.server[0]).toMatchObject({
      mode: 'challenge',
      prompt_format: 'short',
      enroll_challenge: false,
      client_ip_attr: 'paloalto',
      client: [
        expect.objectContaining({ name: 'radius_server_challenge.radius_ip_1', ip: '10.0.1.0/24' }),
        expect.objectContaining({ name: 'radius_server_challenge.radius_ip_2', ip: '10.0.2.5' }),
      ],
    });
    expect(siteConfig(result).sites.hq).toMatchObject({ failmode: 'secure' });
    expect(config.log).toMatchObject({ syslog_facility: 'auth' });
    expect(keysOf(result.notes, 'manual')).toContain('main log_syslog');
    expect(keysOf(result.notes, 'unsupported', 'unknown')).toEqual([]);
    expect(keysOf(result.notes, 'changed')).toEqual(['radius_client', 'server']);
  });

  it('several ldap_server_auto sections: each distinct ikey is a site, a shared one joins its site', async () => {
    const result = await convert('ldap-sites');
    const config = await load('ldap-sites', result);
    expect(config.server.map((s) => s.site)).toEqual([undefined]);
    expect(config.ldap_server.map((s) => [s.listen[0], s.site])).toEqual([
      ['0.0.0.0:389', undefined],
      ['0.0.0.0:1389', 'hq-2'],
      ['0.0.0.0:2389', 'hq-3'],
      ['0.0.0.0:3389', 'hq-2'],
    ]);
    const site = siteConfig(result);
    expect(Object.keys(site.sites)).toEqual(['hq', 'hq-2', 'hq-3']);
    expect(site.sites).toMatchObject({
      hq: { integration: 'hq', failmode: 'safe' },
      'hq-2': { integration: 'hq-2', failmode: 'secure' },
      'hq-3': { integration: 'hq-3', failmode: 'secure' },
    });
    expect(Object.values(site.integrations).map((i) => i.ikey)).toEqual([
      'DIVPNAPPLICATION0001',
      'DIJIRAAPPLICATION001',
      'DIFIREWALLADMIN00001',
    ]);
    // The one relay key on every site.
    for (const s of Object.values(site.sites)) expect(JSON.stringify(s.relay_keys)).toContain(RELAY_A_KEY.publicKey);
    expect(keysOf(result.notes, 'unsupported', 'unknown')).toEqual([]);
  });

  it('ldap_server_auto: an [[ldap_server]] in front of the ad_client primary, Duo defaults written out', async () => {
    const result = await convert('ldap-server');
    const config = await load('ldap-server', result);
    expect(config.server).toEqual([]);
    expect(config.primary).toMatchObject({
      type: 'ldap',
      ldap: { hosts: ['dc1.corp.example.com', 'dc2.corp.example.com'] },
    });
    expect(config.ldap_server).toEqual([
      expect.objectContaining({
        listen: ['0.0.0.0:389'],
        ldaps_listen: ['0.0.0.0:636'],
        tls_cert_file: '/etc/duoauthproxy/ldap.pem',
        tls_key_file: '/etc/duoauthproxy/ldap.key',
        exempt_ou: ['OU=Service Accounts,DC=corp,DC=example,DC=com', 'OU=Monitoring,DC=corp,DC=example,DC=com'],
        exempt_primary_bind: false,
        allow_unlimited_binds: true,
        factors: ['auto'],
        idle_timeout_ms: 900_000,
        minimum_tls_version: 'TLSv1.2',
      }),
    ]);
    expect(siteConfig(result).sites.hq).toMatchObject({ failmode: 'secure' });
    expect(keysOf(result.notes, 'unsupported', 'unknown')).toEqual([]);
    expect(keysOf(result.notes, 'changed')).toEqual([
      'ad_client auth_type',
      'ldap_server_auto factors',
      'ldap_server_auto network_timeout',
      'server',
    ]);
  });

  it('duo_only: the factor in the password field, failmode secure, interface and port kept', async () => {
    const result = await convert('duo-only');
    const config = await load('duo-only', result);
    expect(config.primary).toBeUndefined();
    expect(config.log.level).toBe('debug');
    expect(config.server[0]).toMatchObject({
      mode: 'duo_only',
      listen: ['192.168.50.2:18120'],
      duo_only_failopen_acknowledged: false,
    });
    expect(keysOf(result.notes, 'unsupported', 'unknown')).toEqual([]);
  });

  it('several sections, clients and exempt users, unsupported sections: each leftover named', async () => {
    const result = await convert('multi-section');
    const config = await load('multi-section', result);
    expect(config.server.map((s) => [s.mode, s.listen])).toEqual([
      ['auto', ['10.20.0.5:1812']],
      ['auto', ['10.20.0.5:1813']],
    ]);
    // Duo's default exempt_primary_bind (true) is written out; the relay's own default is false.
    expect(config.ldap_server).toEqual([
      expect.objectContaining({ listen: ['10.20.0.5:389'], exempt_primary_bind: true, ldaps_listen: [] }),
    ]);
    const auto = config.server[0]!;
    expect(auto).toMatchObject({
      exempt_usernames: ['svc-nagios', 'svc-backup', 'breakglass'],
      factors: ['push', 'passcode'],
      delimiter: '#',
      client_ip_attr: 'paloalto',
    });
    // 10.20.1.10-10.20.1.20 as CIDR blocks, and a dotted netmask as a prefix length.
    expect(auto.client.map((c) => c.ip)).toEqual([
      '10.20.1.10/31',
      '10.20.1.12/30',
      '10.20.1.16/30',
      '10.20.1.20',
      '10.30.0.0/16',
    ]);
    expect(auto.client[4]?.secret).toBe('value-from-env-0123456789');
    expect(result.envPlaceholders).toEqual([
      'DUO_RELAY_AD_CLIENT_SERVICE_ACCOUNT_PASSWORD',
      'DUO_RELAY_RADIUS_SERVER_AUTO_RADIUS_SECRET_2',
    ]);
    expect(config.primary).toMatchObject({
      type: 'ldap',
      ldap: { hosts: ['dc1.corp.example.com', 'dc2.corp.example.com'], transport: 'ldaps', timeout_ms: 5000 },
    });
    // Another Duo integration (the LDAP section's ikey) becomes another site on the same relay.
    expect(config.ldap_server[0]?.site).toBe('hq-2');
    expect(config.server.map((s) => s.site)).toEqual([undefined, undefined]);
    expect(Object.keys(result.site.sites)).toEqual(['hq', 'hq-2']);
    expect(result.site.integrations['hq-2']?.ikey).toBe('DIMULTI0000000000004');
    // [main] http_proxy_host / http_proxy_port: every edge call through the same proxy.
    expect(config.edge.proxy).toBe('http://proxy.corp.example.com:3128');
    expect(keysOf(result.notes, 'unsupported', 'unknown')).toEqual([
      'ad_client auth_type',
      'ad_client ntlm_domain',
      'ad_client2',
      'cloud',
      'http_proxy',
      'main log_max_files',
      'main log_max_size',
      'main test_connectivity_on_startup',
      'radius_server_auto api_timeout',
      'radius_server_auto exempt_username_5',
      'radius_server_auto failmod',
      'radius_server_concat client',
      'radius_server_eap',
      'radius_server_iframe',
      'sso',
    ]);
    expect(keysOf(result.notes, 'manual')).toEqual([
      'ad_client service_account_password_protected',
      'edge public_key',
      'edge urls',
      'ldap_server_auto api_host',
      'ldap_server_auto skey',
      'main log_syslog',
      'radius_server_auto radius_secret_protected_2',
    ]);
    expect(result.notes.find((n) => n.key === 'failmod')?.kind).toBe('unknown');
  });
});

describe('duo-relay import-authproxy (files)', () => {
  it('writes both files 0600, never prints the skey, refuses to overwrite without --force', async () => {
    const out: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s) };
    const files = {
      input: join(SAMPLES, 'cisco-asa-ad-auto.cfg'),
      relayOut: join(dir, 'cli-relay.toml'),
      siteOut: join(dir, 'cli-site.json'),
      force: false,
    };
    expect(await importAuthproxy(files, {}, io)).toBe(0);
    expect((await stat(files.relayOut)).mode & 0o777).toBe(0o600);
    expect((await stat(files.siteOut)).mode & 0o777).toBe(0o600);
    expect(out.join('\n')).toContain('loads');
    expect(out.join('\n')).not.toContain('Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep');
    expect(JSON.parse(await readFile(files.siteOut, 'utf8')).integrations.main.skey).toBe(
      'Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep',
    );
    expect(await readFile(files.relayOut, 'utf8')).not.toContain('Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep');
    expect(await importAuthproxy(files, {}, io)).toBe(1);
    expect(await importAuthproxy({ ...files, force: true }, {}, io)).toBe(0);
  });
});
