import { chmod, readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './run.ts';

/**
 * The timestamp every artifact carries: `SOURCE_DATE_EPOCH` when set (reproducible-builds.org),
 * otherwise the commit time of HEAD, so two builds of one commit stamp the same time.
 */
export async function sourceDateEpoch(root: string): Promise<number> {
  const fromEnv = process.env.SOURCE_DATE_EPOCH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^\d+$/.test(fromEnv)) throw new Error(`SOURCE_DATE_EPOCH must be seconds since 1970, got ${fromEnv}`);
    return Number(fromEnv);
  }
  try {
    return Number((await run('git', ['-C', root, 'log', '-1', '--format=%ct'])).trim());
  } catch (error) {
    throw new Error(`not a git checkout: set SOURCE_DATE_EPOCH (${(error as Error).message})`);
  }
}

/**
 * Sets the mtime of `dir` and everything below it to `epoch` and directory modes to 0755, so an
 * archive of it carries neither the build time nor the builder's umask.
 */
export async function stampTree(dir: string, epoch: number): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await stampTree(path, epoch);
    else await utimes(path, epoch, epoch);
  }
  await chmod(dir, 0o755);
  await utimes(dir, epoch, epoch);
}
