import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../local-relay/src/config/errors.ts';
import { loadConfig } from '../../local-relay/src/config/load.ts';

/** `[[ldap_server]]` in relay.toml: defaults, and each mistake named by key. */

const BASE = `
[relay]
site = "site-a"
key_file = "relay.key"

[edge]
urls = ["https://edge.example.com"]
public_key = "1qqkDF2RF7alHF-OSMP9hJnANsTQD3XAwBnfbD856jA"

[primary]
type = "ldap"
hosts = ["dc1.corp.example.com"]
service_account_dn = "CN=svc-duo,OU=Service Accounts,DC=corp,DC=example,DC=com"
service_account_password = "svc-password"
search_dn = "DC=corp,DC=example,DC=com"
`;
const SECTION = `
[[ldap_server]]
listen = ["0.0.0.0:389"]
exempt_ou = ["OU=Service Accounts,DC=corp,DC=example,DC=com"]
`;

async function load(text: string) {
  const dir = await mkdtemp(join(tmpdir(), 'ldap-config-'));
  const file = join(dir, 'relay.toml');
  await writeFile(file, text);
  return loadConfig(file, {});
}

async function problems(text: string) {
  try {
    await load(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('config unexpectedly valid');
}

describe('[[ldap_server]] config', () => {
  it('an LDAP-only relay is valid, with fail-closed defaults', async () => {
    const { config } = await load(BASE + SECTION);
    expect(config.server).toEqual([]);
    expect(config.ldap_server[0]).toMatchObject({
      listen: ['0.0.0.0:389'],
      ldaps_listen: [],
      exempt_primary_bind: false,
      allow_searches_after_bind: true,
      allow_unlimited_binds: false,
      allow_concat: true,
      delimiter: ',',
      idle_timeout_ms: 3_600_000,
      max_connections: 1000,
      max_connections_per_ip: 100,
      max_message_bytes: 1024 * 1024,
    });
  });

  it.each([
    ['no listener at all', `${BASE}\n[[ldap_server]]\n`, 'ldap_server.0.listen', /listen/],
    [
      'ldaps without a certificate',
      `${BASE + SECTION}ldaps_listen = ["0.0.0.0:636"]\n`,
      'ldap_server.0.ldaps_listen',
      /tls_cert_file/,
    ],
    [
      'a certificate without its key',
      `${BASE + SECTION}tls_cert_file = "c.pem"\n`,
      'ldap_server.0.tls_key_file',
      /go together/,
    ],
    [
      'an exempt_ou that is not a DN',
      SECTION.replace('OU=Service Accounts,DC=corp,DC=example,DC=com', 'Service Accounts'),
      'ldap_server.0.exempt_ou.0',
      /DN/,
    ],
    ['passcode in factors', `${BASE + SECTION}factors = ["auto", "passcode"]\n`, 'ldap_server.0.factors.1', /./],
    ['a misspelt key', `${BASE + SECTION}exempt_primary_binds = true\n`, 'ldap_server.0', /exempt_primary_binds/],
    [
      'a primary that is not a directory',
      BASE.replace(/\[primary\][\s\S]*$/, '[primary]\ntype = "users_file"\npath = "u.txt"\n') + SECTION,
      'ldap_server',
      /type = "ldap"/,
    ],
    ['no server of either kind', BASE, 'server', /\[\[ldap_server\]\]/],
  ])('%s', async (_name, text, path, message) => {
    const found = await problems(text.startsWith('\n[[ldap_server]]') ? BASE + text : text);
    expect(found.map((p) => p.path.replaceAll('[', '.').replaceAll(']', ''))).toContain(path);
    expect(found.find((p) => p.path.replaceAll('[', '.').replaceAll(']', '') === path)?.message).toMatch(message);
  });
});

describe('docs/ldap-proxy.md', () => {
  it('its [primary] and [[ldap_server]] examples load as written', async () => {
    const doc = await readFile(join(import.meta.dirname, '../../docs/ldap-proxy.md'), 'utf8');
    const blocks = [...doc.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/^ {3}/gm, ''));
    expect(blocks).toHaveLength(2);
    const base = BASE.slice(0, BASE.indexOf('[primary]'));
    const dir = await mkdtemp(join(tmpdir(), 'ldap-doc-'));
    const text = `${base}${blocks.join('\n')}`.replaceAll('/etc/duo-relay/', `${dir}/`);
    await writeFile(join(dir, 'ldap-password'), 'svc-password\n');
    const file = join(dir, 'relay.toml');
    await writeFile(file, text);
    const { config } = await loadConfig(file, {});
    expect(config.ldap_server[0]).toMatchObject({ exempt_ou: ['ou=services,dc=example,dc=org'] });
  });
});
