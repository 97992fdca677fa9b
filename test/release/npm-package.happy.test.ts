import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, buildPortable, relayManifest } from '../../scripts/release/build.ts';
import { npmPackageName } from '../../scripts/release/npm-package.ts';
import { runProcess } from '../support/process.ts';
import { aloneInTempDir, artifact } from './dist.ts';

/** The npm package installed globally into an empty prefix, offline: it must need nothing else. */
describe('duo-relay-<version>.tgz', () => {
  let dir: string;
  let prefix: string;
  let version: string;

  beforeAll(async () => {
    version = (await relayManifest()).version;
    const { dir: d, file } = await aloneInTempDir(npmPackageName(version));
    dir = d;
    prefix = join(dir, 'prefix');
    const install = await runProcess(
      'npm',
      ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', file],
      { cwd: dir },
    );
    expect(install.code, install.stderr).toBe(0);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('installs plain JavaScript with no dependencies and a Node >= 22 engine', async () => {
    const manifest = JSON.parse(await readFile(join(prefix, 'lib/node_modules/duo-relay/package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'duo-relay', version, engines: { node: '>=22' } });
    expect(manifest.dependencies).toBeUndefined();
    const bin = await readFile(join(prefix, 'lib/node_modules/duo-relay/bin/duo-relay.cjs'), 'utf8');
    expect(bin.startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('puts duo-relay on the PATH of the prefix and runs --help and --version', async () => {
    const env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
    const help = await runProcess('duo-relay', ['--help'], { cwd: dir, env });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: duo-relay <command>');
    const printed = await runProcess('duo-relay', ['--version'], { cwd: dir, env });
    expect(printed.stdout.trim()).toBe(version);
  });
});

describe('reproducibility', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'duo-relay-rebuild-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a second build of this commit gives a byte-identical bundle and npm package', async () => {
    const work = await mkdtemp(join(dir, 'work-'));
    const { manifest } = await buildPortable(dir, work);
    for (const name of [BUNDLE, npmPackageName(manifest.version)]) {
      const again = await readFile(join(dir, name));
      expect(again.equals(await readFile(artifact(name))), name).toBe(true);
    }
  });
});
