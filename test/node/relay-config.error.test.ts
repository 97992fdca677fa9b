import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../local-relay/src/cli/main.ts';
import { ConfigError } from '../../local-relay/src/config/errors.ts';
import { loadConfig } from '../../local-relay/src/config/load.ts';

const EDGE_PUB = '1qqkDF2RF7alHF-OSMP9hJnANsTQD3XAwBnfbD856jA';

const VALID = `
[relay]
site = "site-a"
key_file = "relay.key"

[edge]
urls = ["https://edge.example.com", "http://127.0.0.1:8787"]
public_key = "${EDGE_PUB}"

[primary]
type = "users_file"
path = "users.txt"

[[server]]
mode = "auto"
listen = ["127.0.0.1:1812"]
factors = "auto,passcode"

[[server.client]]
name = "vpn"
ip = "10.0.0.0/24"
secret = { env = "VPN_SECRET" }
`;

async function write(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-config-'));
  const file = join(dir, 'relay.toml');
  await writeFile(file, text);
  return file;
}

async function problems(text: string, env: Record<string, string> = { VPN_SECRET: 'a-long-enough-secret' }) {
  const file = await write(text);
  try {
    await loadConfig(file, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).file).toBe(file);
    expect((error as ConfigError).message.startsWith(`${file}: `)).toBe(true);
    return (error as ConfigError).problems;
  }
  throw new Error('config unexpectedly valid');
}

describe('config: valid file', () => {
  it('parses with defaults, resolves secrets and relative paths', async () => {
    const file = await write(VALID);
    const { config, warnings } = await loadConfig(file, { VPN_SECRET: 'short' });
    expect(config.relay).toMatchObject({ key_file: join(file, '..', 'relay.key') });
    // Unset: the relay runs `secure` until a signed site policy says otherwise.
    expect(config.relay.failmode).toBeUndefined();
    expect(config.edge).toMatchObject({
      public_keys: [EDGE_PUB],
      // Above the edge's default deadlines (10 s, 65 s) plus the margin.
      preauth_timeout_ms: 12000,
      auth_timeout_ms: 70000,
      breaker_threshold: 3,
      probe_interval_ms: 5000,
    });
    const server = config.server[0]!;
    expect(server.mode === 'auto' && server.factors).toEqual(['auto', 'passcode']);
    expect(server.client[0]).toMatchObject({
      secret: 'short',
      require_message_authenticator: true,
      limit_proxy_state: true,
    });
    expect(warnings).toEqual(['server[0].client[0].secret is shorter than 16 bytes: use a long random secret']);
    expect(warnings.join()).not.toContain('short,');
    expect(config.management).toEqual({ enabled: true, listen: '127.0.0.1:9812', allow_remote: false });
    expect(config.journal).toEqual({ max_bytes: 64 * 1024 * 1024, upload_interval_ms: 30_000, sync: 'batch' });
    expect(config.edge.heartbeat_interval_ms).toBe(30_000);
    expect(server.reject_delay_ms).toBe(1_000);
    expect(config.relay).toMatchObject({ max_primary_checks: 64, max_primary_checks_per_client: 16 });
  });

  it('factors left out of an auto section stay unset (the site policy decides)', async () => {
    const { config } = await loadConfig(await write(VALID.replace('factors = "auto,passcode"', '')), {
      VPN_SECRET: 'a-long-enough-secret',
    });
    const server = config.server[0]!;
    expect(server.mode === 'auto' && server.factors).toBeUndefined();
  });

  it('an upstream RADIUS primary: secret from a file, defaults, pass-through names resolved', async () => {
    const file = await write(
      VALID.replace(
        'type = "users_file"\npath = "users.txt"',
        'type = "radius"\nhosts = ["10.0.0.5", "[2001:db8::5]:1645"]\nsecret = { file = "upstream.secret" }\npass_through_attr_names = ["Class", "Filter-Id"]',
      ),
    );
    await writeFile(join(file, '..', 'upstream.secret'), 'upstream-secret-from-file\n');
    const { config } = await loadConfig(file, { VPN_SECRET: 'a-long-enough-secret' });
    expect(config.primary?.type).toBe('radius');
    const radius = config.primary?.type === 'radius' ? config.primary.radius : undefined;
    expect(radius).toMatchObject({
      hosts: ['10.0.0.5', '[2001:db8::5]:1645'],
      secret: 'upstream-secret-from-file',
      retries: 3,
      retry_wait_ms: 2000,
      require_message_authenticator: true,
      pass_through_all: false,
    });
    expect(radius?.pass_through_attr_names).toHaveLength(2);
  });
});

describe('config errors name the file, the key and the problem', () => {
  it.each([
    ['TOML syntax', VALID.replace('[edge]', '[edge'), '', /line \d+, column \d+/],
    ['missing site', VALID.replace('site = "site-a"', ''), 'relay.site', /expected string/],
    [
      'plain http to a remote edge',
      VALID.replace('http://127.0.0.1:8787', 'http://edge.example.com'),
      'edge.urls[1]',
      /https/,
    ],
    ['bad edge key', VALID.replace(EDGE_PUB, 'nope'), 'edge.public_key', /32-byte/],
    [
      'bad key in the pinned list',
      VALID.replace(`public_key = "${EDGE_PUB}"`, `public_keys = ["${EDGE_PUB}", "nope"]`),
      'edge.public_keys[1]',
      /32-byte/,
    ],
    [
      'both public_key and public_keys',
      VALID.replace(`public_key = "${EDGE_PUB}"`, `public_key = "${EDGE_PUB}"\npublic_keys = ["${EDGE_PUB}"]`),
      'edge.public_key',
      /either public_keys or public_key/,
    ],
    ['no edge key at all', VALID.replace(`public_key = "${EDGE_PUB}"`, ''), 'edge.public_keys', /required/],
    ['unknown factor', VALID.replace('"auto,passcode"', '["auto", "sms"]'), 'server[0].factors[1]', /./],
    ['repeated factor', VALID.replace('"auto,passcode"', '["push", "push"]'), 'server[0].factors', /repeat/],
    ['misspelt key', VALID.replace('factors =', 'factorz ='), 'server[0]', /factorz/],
    ['bad client ip', VALID.replace('10.0.0.0/24', '10.0.0.0/33'), 'server[0].client[0].ip', /CIDR/],
    ['bad listen', VALID.replace('127.0.0.1:1812', 'localhost:1812'), 'server[0].listen[0]', /ip:port/],
    ['empty secret', VALID.replace('{ env = "VPN_SECRET" }', '""'), 'server[0].client[0].secret', /empty/],
    ['unset env secret', VALID.replace('VPN_SECRET', 'NOT_SET'), 'server[0].client[0].secret', /NOT_SET is not set/],
    [
      'missing secret file',
      VALID.replace('{ env = "VPN_SECRET" }', '{ file = "nope.txt" }'),
      'server[0].client[0].secret',
      /cannot read/,
    ],
    [
      'radius primary without a secret',
      VALID.replace('type = "users_file"\npath = "users.txt"', 'type = "radius"\nhosts = ["10.0.0.5"]'),
      'primary.secret',
      /./,
    ],
    [
      'radius primary with an unset secret env',
      VALID.replace(
        'type = "users_file"\npath = "users.txt"',
        'type = "radius"\nhosts = ["10.0.0.5"]\nsecret = { env = "NOPE_SECRET" }',
      ),
      'primary.secret',
      /NOPE_SECRET is not set/,
    ],
    [
      'radius primary with a bad host and pass-through name',
      VALID.replace(
        'type = "users_file"\npath = "users.txt"',
        'type = "radius"\nhosts = ["a b"]\nsecret = "s3cret-s3cret"\npass_through_attr_names = ["No-Such-Attr"]',
      ),
      'primary.hosts[0]',
      /host/,
    ],
    ['management on a bad address', `${VALID}\n[management]\nlisten = "nowhere"\n`, 'management.listen', /ip:port/],
    [
      'reject delay beyond a NAS timeout',
      VALID.replace('listen = ["127.0.0.1:1812"]', 'listen = ["127.0.0.1:1812"]\nreject_delay_ms = 60000'),
      'server[0].reject_delay_ms',
      /5000/,
    ],
    [
      'no primary check slot at all',
      VALID.replace('key_file = "relay.key"', 'key_file = "relay.key"\nmax_primary_checks_per_client = 0'),
      'relay.max_primary_checks_per_client',
      /1/,
    ],
    ['journal too small', `${VALID}\n[journal]\nmax_bytes = 10\n`, 'journal.max_bytes', /./],
    ['journal sync mode unknown', `${VALID}\n[journal]\nsync = "never"\n`, 'journal.sync', /batch/],
    [
      'ldap primary missing keys',
      VALID.replace('type = "users_file"\npath = "users.txt"', 'type = "ldap"\nhosts = ["dc1"]'),
      'primary.service_account_password',
      /./,
    ],
    [
      'no primary for auto',
      VALID.replace('type = "users_file"\npath = "users.txt"', 'type = "none"'),
      'primary.type',
      /need a primary \(users_file, ldap or radius\)/,
    ],
    [
      'duo_only with failmode safe, unacknowledged',
      VALID.replace('mode = "auto"', 'mode = "duo_only"').replace('factors = "auto,passcode"', ''),
      'server[0].duo_only_failopen_acknowledged',
      /anyone/,
    ],
    [
      'same client twice on one listener',
      `${VALID}\n[[server]]\nmode = "concat"\nlisten = ["127.0.0.1:1812"]\n[[server.client]]\nname = "again"\nip = "10.0.0.0/24"\nsecret = "0123456789abcdef"\n`,
      'server[1].client[0].ip',
      /already served/,
    ],
    [
      'syslog URL without a port',
      `${VALID}\n[log]\nsyslog = "udp://siem.example"\n`,
      'log.syslog',
      /udp:\/\/host:port/,
    ],
    [
      'syslog_ca_file without tls',
      `${VALID}\n[log]\nsyslog = "tcp://siem.example:514"\nsyslog_ca_file = "ca.pem"\n`,
      'log.syslog_ca_file',
      /tls/,
    ],
    [
      'unknown syslog facility',
      `${VALID}\n[log]\nsyslog_facility = "LOG_NOPE"\n`,
      'log.syslog_facility',
      /expected one of/,
    ],
  ])('%s', async (_, text, path, message) => {
    const found = await problems(text);
    expect(found).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('never prints a secret in an error', async () => {
    const found = await problems(
      VALID.replace('{ env = "VPN_SECRET" }', '"hunter2-hunter2-hunter2"').replace('site = "site-a"', ''),
    );
    expect(JSON.stringify(found)).not.toContain('hunter2');
  });

  it('pins several edge keys with public_keys (current and next)', async () => {
    const next = 'ZAySTQkVI1FMqAAJOg7CzXTxgKQcHtRgSq9FAB8goGk';
    const file = await write(VALID.replace(`public_key = "${EDGE_PUB}"`, `public_keys = ["${EDGE_PUB}", "${next}"]`));
    const { config } = await loadConfig(file, { VPN_SECRET: 'a-long-enough-secret' });
    expect(config.edge.public_keys).toEqual([EDGE_PUB, next]);
  });

  it('duo_only is fine with failmode secure or the acknowledgement', async () => {
    const duoOnly = VALID.replace('mode = "auto"', 'mode = "duo_only"').replace('factors = "auto,passcode"', '');
    const env = { VPN_SECRET: 'a-long-enough-secret' };
    await expect(
      loadConfig(await write(duoOnly.replace('site = "site-a"', 'site = "site-a"\nfailmode = "secure"')), env),
    ).resolves.toBeDefined();
    await expect(
      loadConfig(await write(duoOnly.replace('listen =', 'duo_only_failopen_acknowledged = true\nlisten =')), env),
    ).resolves.toBeDefined();
  });

  it('duo-relay start exits 78 (EX_CONFIG) with the file and key on stderr', async () => {
    const file = await write(VALID.replace('site = "site-a"', ''));
    const err: string[] = [];
    const code = await main(['start', '--config', file], { out: () => {}, err: (s) => err.push(s) });
    expect(code).toBe(78);
    expect(err.join('\n')).toContain(`${file}: relay.site:`);
  });

  it('duo-relay start exits 78 when the key file is missing', async () => {
    const file = await write(VALID);
    process.env.VPN_SECRET = 'a-long-enough-secret';
    const err: string[] = [];
    const code = await main(['start', '--config', file], { out: () => {}, err: (s) => err.push(s) });
    delete process.env.VPN_SECRET;
    expect(code).toBe(78);
    expect(err.join('\n')).toContain('relay.key_file: cannot read key file');
  });
});
