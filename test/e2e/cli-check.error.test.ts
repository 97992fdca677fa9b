import { createSocket, type Socket } from 'node:dgram';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair } from '@duo-edge/contract/ed25519';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_B_KEY } from '../support/keys.ts';
import { freeUdpPort, runDuoRelay, type StackProcess, spawnLocalStack } from '../support/local-stack/child.ts';
import { freePort } from '../support/slapd.ts';
import { siteServerToml } from '../support/stack.ts';

/**
 * `duo-relay check` against the running local stack: every line [ok]; then one broken part at a
 * time, each named by its own [FAIL] line.
 */

let stack: StackProcess;
let baseToml: string;

beforeAll(async () => {
  stack = await spawnLocalStack();
  baseToml = await readFile(join(stack.stateDir, 'relay.toml'), 'utf8');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** A variant of the stack's relay.toml next to it (relative paths keep resolving). */
async function variant(name: string, edit: (toml: string) => string): Promise<string> {
  const file = join(stack.stateDir, `${name}.toml`);
  await writeFile(file, edit(baseToml));
  return file;
}

const check = (file: string) => runDuoRelay(['check', '--config', file]);
const failLines = (out: string) => out.split('\n').filter((l) => l.startsWith('[FAIL]'));

describe('duo-relay check', () => {
  it('passes against the running stack, one [ok] line per check', async () => {
    const r = await check(join(stack.stateDir, 'relay.toml'));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(failLines(r.stdout)).toEqual([]);
    for (const name of [
      'config',
      'relay key',
      'failmode for site demo',
      'edge http',
      'relay key at http\\S+ for site demo',
      'clock vs',
      'Duo via',
      'udp',
      'primary',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^\\[ok\\] +${name}`, 'm'));
    }
    // Which failmode holds while the edge is unreachable, and why; the timeouts against the deadlines.
    expect(r.stdout).toMatch(
      /^\[ok\] +failmode via http\S+ for site demo: safe when the edge is unreachable: signed site policy/m,
    );
    expect(r.stdout).toMatch(
      /^\[ok\] +timeouts vs http\S+ for site demo: edge\.preauth_timeout_ms = \d+ ms exceeds the edge's deadline/m,
    );
    expect(r.stdout).toContain('all checks passed');
  });

  it('edge down: the edge line fails', async () => {
    const closed = await freePort();
    const file = await variant('edge-down', (t) => t.replace(/urls = \[.*\]/, `urls = ["http://127.0.0.1:${closed}"]`));
    const r = await check(file);
    expect(r.code).toBe(1);
    expect(failLines(r.stdout)).toEqual([`[FAIL] edge http://127.0.0.1:${closed}: unreachable: ECONNREFUSED (direct)`]);
  });

  it('wrong relay key: refused, with the public key to register', async () => {
    const { privateKeyPem, publicKey } = await generateKeyPair();
    await writeFile(join(stack.stateDir, 'stranger.key'), privateKeyPem, { mode: 0o600 });
    const file = await variant('wrong-key', (t) => t.replace('key_file = "relay.key"', 'key_file = "stranger.key"'));
    const r = await check(file);
    expect(r.code).toBe(1);
    const fails = failLines(r.stdout);
    expect(fails).toHaveLength(1);
    expect(fails[0]).toMatch(
      /^\[FAIL\] relay key at http:\/\/127\.0\.0\.1:\d+ for site demo: refused \(HTTP 401\): register public key/,
    );
    expect(fails[0]).toContain(publicKey);
  });

  it('a second site the key is not registered on: that site fails, by name, the first still passes', async () => {
    const port = await freeUdpPort();
    const file = await variant('second-site', (t) => t + siteServerToml('branch', port));
    const r = await check(file);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const fails = failLines(r.stdout);
    expect(fails).toHaveLength(1);
    expect(fails[0]).toMatch(
      /^\[FAIL\] relay key at http:\/\/127\.0\.0\.1:\d+ for site branch: refused \(HTTP 401\): register public key \S+ for site "branch"/,
    );
    expect(r.stdout).toMatch(/^\[ok\] +relay key at http\S+ for site demo: accepted \(failmode safe\)/m);
    // Each site's own failmode line: the demo site's saved policy, the branch's from relay.toml alone.
    expect(r.stdout).toMatch(/^\[ok\] +failmode for site demo: safe at start .*signed site policy/m);
    expect(r.stdout).toMatch(/^\[ok\] +failmode for site branch: safe at start .*relay\.failmode/m);
    expect(r.stdout).toContain('some checks FAILED');
  });

  it('wrong edge public key: the answer does not verify', async () => {
    const file = await variant('wrong-edge-key', (t) =>
      t.replace(/public_key = ".*"/, `public_key = "${RELAY_B_KEY.publicKey}"`),
    );
    const r = await check(file);
    expect(r.code).toBe(1);
    expect(failLines(r.stdout)).toEqual([
      expect.stringMatching(/^\[FAIL\] relay key at .*: the answer is not signed by a key in edge\.public_keys/),
    ]);
  });

  it('UDP port taken by another program: the udp line fails', async () => {
    const port = await freeUdpPort();
    const squatter: Socket = createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(port, '127.0.0.1', r));
    try {
      const file = await variant('port-taken', (t) =>
        t.replace(/listen = \["127\.0\.0\.1:\d+"\]/, `listen = ["127.0.0.1:${port}"]`),
      );
      const r = await check(file);
      expect(r.code).toBe(1);
      expect(failLines(r.stdout)).toEqual([
        `[FAIL] udp 127.0.0.1:${port}: address in use by another program (EADDRINUSE): stop it or change server.listen`,
      ]);
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });

  it('LDAP down: the primary line fails', async () => {
    const closed = await freePort();
    const ldap = `[primary]
type = "ldap"
hosts = ["127.0.0.1:${closed}"]
transport = "clear"
service_account_dn = "cn=relay-svc,ou=services,dc=example,dc=org"
service_account_password = "svc-pass"
search_dn = "ou=people,dc=example,dc=org"
username_attribute = "uid"
connect_timeout_ms = 1000
`;
    const file = await variant('ldap-down', (t) =>
      t.replace(/\[primary\]\ntype = "users_file"\npath = "users.txt"\n/, ldap),
    );
    const r = await check(file);
    expect(r.code).toBe(1);
    const fails = failLines(r.stdout);
    expect(fails).toHaveLength(1);
    expect(fails[0]).toMatch(new RegExp(`^\\[FAIL\\] primary ldap: 127\\.0\\.0\\.1:${closed}: `));
  });

  it('an invalid config: one [FAIL] config line per problem, nothing else checked', async () => {
    const file = await variant('invalid', (t) => t.replace('factors = ["auto", "passcode"]', 'factors = ["sms"]'));
    const r = await check(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^\[FAIL\] config: .*invalid\.toml: server\[0\]\.factors/m);
    expect(r.stdout).not.toContain('[ok]');
  });
});
