import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linuxBinary, relayManifest } from '../../scripts/release/build.ts';
import { debName } from '../../scripts/release/deb.ts';
import { runProcess } from '../support/process.ts';
import { aloneInTempDir, artifact } from './dist.ts';

/** The .deb as dpkg sees it: control fields, the unpacked tree, the unit, the maintainer scripts. */
describe.each(['amd64', 'arm64'] as const)('duo-relay_<version>_%s.deb', (arch) => {
  let dir: string;
  let deb: string;
  let root: string;
  let version: string;

  beforeAll(async () => {
    version = (await relayManifest()).version;
    ({ dir, file: deb } = await aloneInTempDir(debName(version, arch)));
    root = join(dir, 'root');
    const x = await runProcess('dpkg-deb', ['-x', deb, root]);
    expect(x.code, x.stderr).toBe(0);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const field = async (name: string) => (await runProcess('dpkg-deb', ['-f', deb, name])).stdout.trim();

  it('declares the package, version and architecture, and needs no Node.js', async () => {
    expect(await field('Package')).toBe('duo-relay');
    expect(await field('Version')).toBe(version);
    expect(await field('Architecture')).toBe(arch);
    expect(await field('Depends')).not.toMatch(/node/i);
  });

  it('installs the single executable, the unit and the example config as a conffile', async () => {
    const listing = (await runProcess('dpkg-deb', ['-c', deb])).stdout;
    expect(listing).toMatch(/^-rwxr-xr-x root\/root .* \.\/usr\/bin\/duo-relay$/m);
    expect(listing).toMatch(/^-rw-r--r-- root\/root .* \.\/usr\/lib\/systemd\/system\/duo-relay\.service$/m);
    expect(listing).toMatch(/^-rw-r----- root\/root .* \.\/etc\/duo-relay\/relay\.toml$/m);
    const control = join(dir, 'control');
    expect((await runProcess('dpkg-deb', ['-e', deb, control])).code).toBe(0);
    expect((await readFile(join(control, 'conffiles'), 'utf8')).trim().split('\n')).toEqual([
      '/etc/duo-relay/relay.toml',
    ]);
    const binary = await readFile(join(root, 'usr/bin/duo-relay'));
    const x64OrArm64 = arch === 'amd64' ? 'x64' : 'arm64';
    expect(binary.equals(await readFile(artifact(linuxBinary(x64OrArm64))))).toBe(true);
  });
});

describe('the unit in the .deb', () => {
  let dir: string;
  let root: string;

  beforeAll(async () => {
    const { dir: d, file } = await aloneInTempDir(debName((await relayManifest()).version, 'amd64'));
    dir = d;
    root = join(dir, 'root');
    expect((await runProcess('dpkg-deb', ['-x', file, root])).code).toBe(0);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('verifies with systemd-analyze, and its ExecStart runs the shipped binary', async () => {
    const unit = await readFile(join(root, 'usr/lib/systemd/system/duo-relay.service'), 'utf8');
    // The same unit ships loose in dist/ for installs of the bare binary.
    expect(await readFile(artifact('duo-relay.service'), 'utf8')).toBe(unit);
    const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
    const [program = '', ...args] = execStart.split(/\s+/);
    expect(program).toBe('/usr/bin/duo-relay');
    // The host has no /usr/bin/duo-relay: verify a copy whose ExecStart points into the unpacked tree.
    const units = join(dir, 'units');
    await mkdir(units);
    await writeFile(
      join(units, 'duo-relay.service'),
      unit.replace(`ExecStart=${program}`, `ExecStart=${root}${program}`),
    );
    const verify = await runProcess('systemd-analyze', ['verify', '--man=no', join(units, 'duo-relay.service')]);
    expect(verify.stderr.split('\n').filter((l) => l.startsWith('duo-relay.service'))).toEqual([]);
    expect(verify.code, verify.stderr).toBe(0);
    // Run as the unit would with the example config just installed: it must refuse the
    // placeholders, naming the file and the key, with EX_CONFIG (78), not run half-configured.
    const config = args.at(-1) ?? '';
    expect(config).toBe('/etc/duo-relay/relay.toml');
    const run = await runProcess(`${root}${program}`, [...args.slice(0, -1), `${root}${config}`], {
      env: { PATH: '' },
    });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain(`${root}${config}: edge.public_key: must be base64url`);
  });
});

/**
 * The maintainer scripts, run with DPKG_ROOT at a scratch root and PATH holding only recorders of
 * the commands they call: what they would do to a machine, without doing it to this one. The
 * recorders of mkdir, chown and chmod act on the scratch root (chown and chmod only check that
 * the path exists, as the real ones would fail without it).
 */
describe('maintainer scripts', () => {
  let dir: string;
  let scripts: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'duo-relay-maint-'));
    scripts = join(dir, 'control');
    const version = (await relayManifest()).version;
    expect((await runProcess('dpkg-deb', ['-e', artifact(debName(version, 'amd64')), scripts])).code).toBe(0);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const ACT: Record<string, string> = {
    mkdir: 'exec /bin/mkdir "$@"',
    chown: 'for last; do :; done; [ -e "$last" ]',
    chmod: 'for last; do :; done; [ -e "$last" ]',
  };

  /** Runs `script args`; returns the commands it called, with paths relative to the scratch root. */
  async function runScript(
    script: string,
    args: string[],
    opts: { userExists: boolean; conffile: boolean },
  ): Promise<{ code: number | null; stderr: string; calls: string[] }> {
    const bin = await mkdtemp(join(dir, 'bin-'));
    const root = await mkdtemp(join(dir, 'root-'));
    await mkdir(join(root, 'etc/duo-relay'), { recursive: true });
    if (opts.conffile) await writeFile(join(root, 'etc/duo-relay/relay.toml'), '');
    const log = join(bin, 'calls.log');
    for (const cmd of ['getent', 'useradd', 'mkdir', 'chown', 'chmod', 'rm', 'rmdir', 'systemctl']) {
      const act = cmd === 'getent' ? `exit ${opts.userExists ? 0 : 2}` : (ACT[cmd] ?? 'exit 0');
      await writeFile(join(bin, cmd), `#!/bin/sh\necho "${cmd} $*" >> '${log}'\n${act}\n`);
      await chmod(join(bin, cmd), 0o755);
    }
    const res = await runProcess('/bin/sh', [join(scripts, script), ...args], { env: { PATH: bin, DPKG_ROOT: root } });
    const calls = (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
    return { code: res.code, stderr: res.stderr, calls: calls.map((c) => c.replaceAll(root, '')) };
  }

  it('postinst creates the system user and /var/lib/duo-relay owned by it, mode 0700', async () => {
    const { code, stderr, calls } = await runScript('postinst', ['configure', ''], {
      userExists: false,
      conffile: true,
    });
    expect(code, stderr).toBe(0);
    expect(calls).toContainEqual(expect.stringMatching(/^useradd --system .*duo-relay$/));
    expect(calls).toContain('chown duo-relay:duo-relay /var/lib/duo-relay');
    expect(calls).toContain('chmod 0700 /var/lib/duo-relay');
    expect(calls).toContain('chown root:duo-relay /etc/duo-relay/relay.toml');
    expect(calls).toContain('chmod 0640 /etc/duo-relay/relay.toml');
  });

  it('postinst on upgrade keeps the existing user, and a conffile the admin deleted stays deleted', async () => {
    const { code, stderr, calls } = await runScript('postinst', ['configure', '0.0.9'], {
      userExists: true,
      conffile: false,
    });
    expect(code, stderr).toBe(0);
    expect(calls.filter((c) => c.startsWith('useradd') || c.includes('relay.toml'))).toEqual([]);
  });

  it('postrm removes state on purge only', async () => {
    const removed = await runScript('postrm', ['remove'], { userExists: true, conffile: true });
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.calls.filter((c) => c.startsWith('rm '))).toEqual([]);
    const purged = await runScript('postrm', ['purge'], { userExists: true, conffile: false });
    expect(purged.code, purged.stderr).toBe(0);
    expect(purged.calls).toContain('rm -rf /var/lib/duo-relay');
  });
});
