import { chmod, copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stampTree } from './epoch.ts';
import { run } from './run.ts';

export type DebArch = 'amd64' | 'arm64';

export const debName = (version: string, arch: DebArch): string => `duo-relay_${version}_${arch}.deb`;

/**
 * The .deb of one architecture: the single executable as /usr/bin/duo-relay, the hardened unit,
 * the example configuration as a conffile, and the maintainer scripts from packaging/debian.
 * Owners are root (`--root-owner-group`), mtimes are the source date, so the archive is stable.
 */
export async function buildDeb(opts: {
  packaging: string;
  binary: string;
  version: string;
  arch: DebArch;
  epoch: number;
  workDir: string;
  out: string;
}): Promise<void> {
  const { packaging, version, arch } = opts;
  const root = join(opts.workDir, `deb-${arch}`);
  const put = async (from: string, to: string, mode: number) => {
    await mkdir(join(root, to, '..'), { recursive: true });
    await copyFile(from, join(root, to));
    await chmod(join(root, to), mode);
  };
  await put(opts.binary, 'usr/bin/duo-relay', 0o755);
  await put(join(packaging, 'duo-relay.service'), 'usr/lib/systemd/system/duo-relay.service', 0o644);
  await put(join(packaging, 'relay.toml.example'), 'etc/duo-relay/relay.toml', 0o640);
  await put(join(packaging, 'README.md'), 'usr/share/doc/duo-relay/README.md', 0o644);
  for (const script of ['postinst', 'prerm', 'postrm']) {
    await put(join(packaging, 'debian', script), `DEBIAN/${script}`, 0o755);
  }
  await put(join(packaging, 'debian', 'conffiles'), 'DEBIAN/conffiles', 0o644);
  const installedKiB = Math.ceil((await stat(opts.binary)).size / 1024) + 64;
  const control = (await readFile(join(packaging, 'debian', 'control'), 'utf8'))
    .replace('@VERSION@', version)
    .replace('@ARCH@', arch)
    .replace('@INSTALLED_SIZE@', String(installedKiB));
  await writeFile(join(root, 'DEBIAN/control'), control);
  await stampTree(root, opts.epoch);
  // gzip: every dpkg since Debian 9 / Ubuntu 18.04 reads it, and it is single-threaded, so the
  // output does not depend on the build machine's core count as xz's does.
  await run('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', root, opts.out], {
    env: { ...process.env, SOURCE_DATE_EPOCH: String(opts.epoch) },
  });
}
