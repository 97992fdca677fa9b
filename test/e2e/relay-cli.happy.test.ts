import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importPrivateKeyPem, publicKeyOf } from '@duo-edge/contract/ed25519';
import { REPLY } from '@duo-edge/contract/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDGE_KEY, RELAY_A_KEY } from '../support/keys.ts';
import { runProcess } from '../support/process.ts';
import { radclient } from '../support/radclient.ts';
import { freeTcpPort, freeUdpPort, waitFor } from '../support/wait.ts';

/** The `duo-relay` binary as an admin runs it: a child process, signals, exit codes. */

const BIN = resolve(import.meta.dirname, '../../local-relay/bin/duo-relay.js');
const SECRET = 'cli-radius-secret-0123456789';
let dir: string;

const run = (args: string[], input?: string) =>
  runProcess(process.execPath, [BIN, ...args], {
    cwd: dir,
    killAfterMs: 20_000,
    ...(input === undefined ? {} : { input }),
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relay-cli-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('duo-relay CLI', () => {
  it('--version and --help on every command', async () => {
    expect((await run(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    for (const cmd of ['start', 'keygen', 'hash-password']) {
      const r = await run([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: duo-relay ${cmd}`);
    }
    expect((await run(['frobnicate'])).code).toBe(64);
  });

  it('keygen writes a 0600 PEM, prints its public key, and will not overwrite', async () => {
    const r = await run(['keygen', '--out', 'k.pem']);
    expect(r.code).toBe(0);
    const pem = await readFile(join(dir, 'k.pem'), 'utf8');
    expect((await stat(join(dir, 'k.pem'))).mode & 0o777).toBe(0o600);
    expect(r.stdout.trim()).toBe(await publicKeyOf((await importPrivateKeyPem(pem))!));
    expect(r.stdout).not.toContain('PRIVATE');
    expect((await run(['keygen', '--out', 'k.pem'])).code).toBe(1);
  });

  it('hash-password reads stdin and adds, then updates, the entry', async () => {
    expect((await run(['hash-password', '--file', 'users.txt', 'alice'], 'alice-pass\n')).code).toBe(0);
    expect((await run(['hash-password', '--file', 'users.txt', 'svc-backup'], 'svc-pass\n')).code).toBe(0);
    const r = await run(['hash-password', '--file', 'users.txt', 'alice'], 'alice-pass\n');
    expect(r.stderr).toContain('updated alice');
    const text = await readFile(join(dir, 'users.txt'), 'utf8');
    expect(text.split('\n').filter((l) => l.startsWith('alice:$scrypt$'))).toHaveLength(1);
    expect(text).not.toContain('alice-pass');
    const printed = await run(['hash-password', 'bob'], 'bob-pass\n');
    expect(printed.stdout).toMatch(/^bob:\$scrypt\$N=16384,r=8,p=1\$/);
  });

  it('start serves RADIUS, reloads on SIGHUP (bad config kept out), stops on SIGTERM with status 0', async () => {
    await writeFile(join(dir, 'relay.key'), RELAY_A_KEY.privateKeyPem);
    const port = await freeUdpPort();
    const deadEdge = await freeTcpPort();
    const toml = (exempt: string) => `
[relay]
site = "site-a"
key_file = "relay.key"
failmode = "safe"
shutdown_grace_ms = 2000
[edge]
urls = ["http://127.0.0.1:${deadEdge}"]
public_key = "${EDGE_KEY.publicKey}"
preauth_timeout_ms = 1000
[log]
level = "info"
[management]
listen = "127.0.0.1:0"
[primary]
type = "users_file"
path = "users.txt"
[[server]]
mode = "auto"
listen = ["127.0.0.1:${port}"]
exempt_usernames = [${exempt}]
[[server.client]]
name = "loopback"
ip = "127.0.0.1"
secret = "${SECRET}"
`;
    await writeFile(join(dir, 'relay.toml'), toml(''));
    const child: ChildProcess = spawn(process.execPath, [BIN, 'start', '--config', 'relay.toml'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let logs = '';
    child.stdout!.on('data', (d) => {
      logs += d;
    });
    child.stderr!.on('data', (d) => {
      logs += d;
    });
    const exited = new Promise<number | null>((r) => child.on('close', r));
    try {
      await waitFor(() => logs.includes('duo-relay started'), 15_000, 'duo-relay started');
      const send = (user: string, password: string) =>
        radclient({
          port,
          secret: SECRET,
          attributes: [`User-Name = "${user}"`, `User-Password = "${password}"`],
          timeoutS: 5,
          retries: 1,
        });

      // No edge, never fetched: the config's failmode (safe) applies after primary success.
      const alice = await send('alice', 'alice-pass');
      expect(alice.code).toBe('Access-Accept');
      expect(alice.attributes).toContainEqual({ name: 'Reply-Message', value: REPLY.failSafeAllowed });
      expect((await send('alice', 'wrong')).code).toBe('Access-Reject');

      await writeFile(join(dir, 'relay.toml'), toml('"svc-backup"'));
      child.kill('SIGHUP');
      await waitFor(() => logs.includes('configuration reloaded'), 10_000, 'configuration reloaded');
      const exempt = await send('svc-backup', 'svc-pass');
      expect(exempt.attributes).toContainEqual({ name: 'Reply-Message', value: REPLY.exempt });

      await writeFile(join(dir, 'relay.toml'), toml('"svc-backup"').replace('site = "site-a"', ''));
      child.kill('SIGHUP');
      await waitFor(() => logs.includes('reload failed'), 10_000, 'reload failed');
      expect((await send('svc-backup', 'svc-pass')).attributes).toContainEqual({
        name: 'Reply-Message',
        value: REPLY.exempt,
      });

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(logs).toContain('duo-relay stopped');
      for (const secret of [SECRET, 'alice-pass', 'svc-pass', 'BEGIN PRIVATE KEY']) expect(logs).not.toContain(secret);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('start with an invalid config exits 78 naming the file and the key', async () => {
    await writeFile(join(dir, 'bad.toml'), '[relay]\nsite = "x"\n');
    const r = await run(['start', '--config', 'bad.toml']);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`${join(dir, 'bad.toml')}: relay.key_file:`);
    expect(r.stderr).toContain(`${join(dir, 'bad.toml')}: edge:`);
  });
});
