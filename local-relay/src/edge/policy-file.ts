import { readFile } from 'node:fs/promises';
import { err, ok, type Result } from '@duo-edge/contract/result';
import { type SitePolicy, sitePolicySchema } from '@duo-edge/contract/wire';
import { writeFileAtomic } from '../lib/atomic-file.ts';

/** The last-known-good site policy on disk, written atomically: a crash leaves old or new, never half. */

export async function savePolicy(file: string, policy: SitePolicy): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(policy, null, 2)}\n`);
}

/** Why no saved policy applies: none was saved yet, or the file cannot be trusted. */
export type PolicyFileError = { kind: 'absent' } | { kind: 'invalid'; detail: string };

export async function loadPolicy(file: string, site: string): Promise<Result<SitePolicy, PolicyFileError>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return err({ kind: 'absent' });
    return err({ kind: 'invalid', detail: (error as Error).message });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return err({ kind: 'invalid', detail: 'not JSON' });
  }
  const parsed = sitePolicySchema.safeParse(json);
  if (!parsed.success) return err({ kind: 'invalid', detail: parsed.error.message });
  // A policy saved for another site (a copied state_dir) must not decide this site's failmode.
  if (parsed.data.site !== site) return err({ kind: 'invalid', detail: `saved for site ${parsed.data.site}` });
  return ok(parsed.data);
}
