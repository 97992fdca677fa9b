import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { REPLY } from '@duo-edge/contract/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linuxBinary, ROOT, relayManifest } from '../../scripts/release/build.ts';
import { RELAY_NODE_FLAGS } from '../../scripts/release/runtimes.ts';
import { healthcheckScript, relayDockerfile } from '../support/dockerfile.ts';
import { runProcess } from '../support/process.ts';
import { radclient } from '../support/radclient.ts';
import {
  freeTcpPort,
  freeUdpPort,
  type RelayProcess,
  STACK_RADIUS_SECRET,
  scrapeMetric,
  spawnRelay,
  writeRelayConfig,
} from '../support/stack.ts';
import { aloneInTempDir, artifact } from './dist.ts';

/**
 * The Linux executable as an admin gets it: copied alone into an empty folder, run with an empty
 * PATH and no Node anywhere it could find, serving RADIUS while the edge cannot be reached.
 */
describe('duo-relay-linux-x64 alone in an empty folder', () => {
  let dir: string;
  let binary: string;
  let relay: RelayProcess;
  let radiusPort: number;
  let managementPort: number;
  const env = { PATH: '' };

  beforeAll(async () => {
    ({ dir, file: binary } = await aloneInTempDir(linuxBinary('x64')));
    radiusPort = await freeUdpPort();
    managementPort = await freeTcpPort();
    const unreachableEdge = `http://127.0.0.1:${await freeTcpPort()}`;
    const config = await writeRelayConfig(join(dir, 'etc'), {
      site: 'site-a',
      failmode: 'safe',
      edgeUrls: [unreachableEdge],
      radiusPort,
      managementPort,
      preauthTimeoutMs: 2000,
      authTimeoutMs: 2000,
    });
    // The admin adds a user with the binary itself (scrypt inside the executable).
    const added = await runBinary(binary, ['hash-password', '--file', join(dir, 'etc/users.txt'), 'zoe'], {
      cwd: dir,
      input: 'zoe-password\n',
    });
    expect(added.code, added.stderr).toBe(0);
    relay = await spawnRelay(config, managementPort, 30_000, { command: [binary], cwd: dir, env });
  });

  afterAll(async () => {
    await relay?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers Status-Server', async () => {
    const reply = await radclient({ port: radiusPort, secret: STACK_RADIUS_SECRET, command: 'status' });
    expect(reply.code).toBe('Access-Accept');
  });

  it('logs a users-file user in by the safe failmode while the edge is unreachable', async () => {
    const reply = await radclient({
      port: radiusPort,
      secret: STACK_RADIUS_SECRET,
      attributes: ['User-Name = "zoe"', 'User-Password = "zoe-password"'],
      timeoutS: 10,
    });
    expect(reply.code, relay.output()).toBe('Access-Accept');
    expect(reply.attributes).toContainEqual({ name: 'Reply-Message', value: REPLY.failSafeAllowed });
  });

  it('still rejects a wrong password: the failmode never stands in for the primary', async () => {
    const reply = await radclient({
      port: radiusPort,
      secret: STACK_RADIUS_SECRET,
      attributes: ['User-Name = "zoe"', 'User-Password = "not-zoe-password"'],
      timeoutS: 10,
    });
    expect(reply.code).toBe('Access-Reject');
  });

  it('runs with the V8 settings built in: a young generation capped at 1 MiB per semi-space', async () => {
    // Node's default lets the new space grow to 8 MiB during start; --max-semi-space-size=1 keeps it at 2.
    const newSpace = await scrapeMetric(
      relay.managementUrl,
      'duo_relay_nodejs_heap_space_size_total_bytes',
      'space="new"',
    );
    expect(newSpace).toBeLessThanOrEqual(2 * 2 ** 20);
  });

  it('carries every built-in V8 setting (RELAY_NODE_FLAGS) in its application blob', async () => {
    // Node itself holds none of these strings: each one found was put there by the SEA's execArgv.
    const bytes = await readFile(binary);
    for (const flag of RELAY_NODE_FLAGS) expect(bytes.includes(flag), flag).toBe(true);
  });

  it("passes the container image's HEALTHCHECK command", async () => {
    const check = await runProcess('bash', ['-c', healthcheckScript(relayDockerfile(ROOT), managementPort)], {
      killAfterMs: 10_000,
    });
    expect(check.code, check.stderr).toBe(0);
  });

  it('fails that HEALTHCHECK once the relay is gone', async () => {
    const stopped = await freeTcpPort();
    const check = await runProcess('bash', ['-c', healthcheckScript(relayDockerfile(ROOT), stopped)], {
      killAfterMs: 10_000,
    });
    expect(check.code).not.toBe(0);
  });
});

describe('the Linux executables', () => {
  it('print the package version, embedded at build time', async () => {
    const { dir, file } = await aloneInTempDir(linuxBinary('x64'));
    const res = await runBinary(file, ['--version'], { cwd: dir });
    expect(res.stdout.trim()).toBe((await relayManifest()).version);
    await rm(dir, { recursive: true, force: true });
  });

  it('run on arm64 (under qemu-aarch64-static with the arm64 C libraries)', async () => {
    const { dir, file } = await aloneInTempDir(linuxBinary('arm64'));
    const res = await runProcess('qemu-aarch64-static', ['-L', '/usr/aarch64-linux-gnu', file, '--version'], {
      cwd: dir,
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe((await relayManifest()).version);
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['x64', 62],
    ['arm64', 183],
  ] as const)('%s is an ELF executable of its machine with the SEA fuse flipped', async (arch, machine) => {
    const file = artifact(linuxBinary(arch));
    const handle = await open(file);
    const header = Buffer.alloc(20);
    await handle.read(header, 0, 20, 0);
    await handle.close();
    expect(header.subarray(0, 4)).toEqual(Buffer.from('\x7fELF', 'latin1'));
    expect(header.readUInt16LE(18)).toBe(machine);
    const bytes = await readFile(file);
    expect(bytes.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')).toBe(true);
  });
});

/** Runs the executable with an empty PATH: nothing from this machine's tool chain can help it. */
const runBinary = (file: string, args: string[], opts: { cwd: string; input?: string }) =>
  runProcess(file, args, { ...opts, env: { PATH: '' } });
