import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stampTree } from './epoch.ts';
import { run } from './run.ts';

export const npmPackageName = (version: string): string => `duo-relay-${version}.tgz`;

/**
 * The npm package: the bundle as plain JavaScript (Node will not strip types under node_modules)
 * with every dependency inside it, so `npm install -g` needs no registry and no build. `npm pack`
 * writes sorted entries with a fixed mtime, so the tarball is stable.
 */
export async function buildNpmPackage(opts: {
  packaging: string;
  bundle: string;
  version: string;
  description: string;
  epoch: number;
  workDir: string;
  outDir: string;
}): Promise<string> {
  const dir = join(opts.workDir, 'npm');
  await mkdir(join(dir, 'bin'), { recursive: true });
  await copyFile(opts.bundle, join(dir, 'bin/duo-relay.cjs'));
  await chmod(join(dir, 'bin/duo-relay.cjs'), 0o755);
  await copyFile(join(opts.packaging, 'README.md'), join(dir, 'README.md'));
  await copyFile(join(opts.packaging, 'relay.toml.example'), join(dir, 'relay.toml.example'));
  const manifest = {
    name: 'duo-relay',
    version: opts.version,
    description: opts.description,
    bin: { 'duo-relay': 'bin/duo-relay.cjs' },
    files: ['bin/duo-relay.cjs', 'relay.toml.example'],
    engines: { node: '>=22' },
  };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await stampTree(dir, opts.epoch);
  await run('npm', ['pack', '--pack-destination', opts.outDir, '--silent'], { cwd: dir });
  return join(opts.outDir, npmPackageName(opts.version));
}
