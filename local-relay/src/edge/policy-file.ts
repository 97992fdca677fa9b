import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type SitePolicy, sitePolicySchema } from '../../../src/wire/schemas.ts';

/**
 * The last-known-good site policy on disk. Written atomically (temp file, fsync, rename, fsync of
 * the directory) so a crash or power cut leaves either the old file or the new one, never half.
 */

export async function savePolicy(file: string, policy: SitePolicy): Promise<void> {
  const tmp = join(dirname(file), `.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(policy, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

export type LoadedPolicy =
  | { kind: 'ok'; policy: SitePolicy }
  | { kind: 'absent' }
  | { kind: 'invalid'; detail: string };

export async function loadPolicy(file: string, site: string): Promise<LoadedPolicy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    return { kind: 'invalid', detail: (error as Error).message };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', detail: 'not JSON' };
  }
  const parsed = sitePolicySchema.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', detail: parsed.error.message };
  // A policy saved for another site (a copied state_dir) must not decide this site's failmode.
  if (parsed.data.site !== site) return { kind: 'invalid', detail: `saved for site ${parsed.data.site}` };
  return { kind: 'ok', policy: parsed.data };
}
