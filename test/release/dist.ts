import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ROOT } from '../../scripts/release/build.ts';

/** dist/ as `npm run release` wrote it (test/release/build-dist.ts). */
export const DIST = join(ROOT, 'dist');

export const artifact = (name: string): string => join(DIST, name);

/** An empty folder outside the repository with just `name` copied in, as an admin receives it. */
export async function aloneInTempDir(name: string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'duo-relay-artifact-'));
  const file = join(dir, basename(name));
  await copyFile(artifact(name), file);
  return { dir, file };
}
