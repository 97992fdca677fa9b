import { access, readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'smol-toml';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import { convertAuthproxy, type ImportOptions } from '../import/convert.ts';
import type { ImportNote } from '../import/section-reader.ts';

/**
 * `duo-relay import-authproxy`: writes relay.toml (mode 0600: it may hold RADIUS secrets) and the
 * site entry (mode 0600: it holds the Duo skey, which is never printed), checks that relay.toml
 * loads, and lists every option that was not carried over.
 */

export interface ImportFiles {
  input: string;
  relayOut: string;
  siteOut: string;
  force: boolean;
}

export async function importAuthproxy(
  files: ImportFiles,
  opts: ImportOptions,
  io: { out: (s: string) => void; err: (s: string) => void },
): Promise<number> {
  const text = await readFile(files.input, 'utf8');
  const result = convertAuthproxy(text, opts);
  if (!files.force) {
    for (const f of [files.relayOut, files.siteOut]) {
      if (await exists(f)) {
        io.err(`${f} exists; pass --force to overwrite it`);
        return 1;
      }
    }
  }
  const header = `# Converted from ${files.input} by duo-relay import-authproxy.\n# Review every note it printed before use (docs/migrating-from-authproxy.md).\n\n`;
  await writeFile(files.relayOut, header + stringify(result.relay), { mode: 0o600 });
  await writeFile(files.siteOut, `${JSON.stringify(result.site, null, 2)}\n`, { mode: 0o600 });

  io.out(`wrote ${files.relayOut} (relay config, mode 0600)`);
  io.out(`wrote ${files.siteOut} (site entry for the edge's SITES_CONFIG, holds the skey: mode 0600)`);
  // Validate what was written, with the placeholders a stand-in value: their absence is reported below.
  const env = {
    ...process.env,
    ...Object.fromEntries(result.envPlaceholders.map((e) => [e, process.env[e] ?? 'placeholder'])),
  };
  let loads = true;
  try {
    await loadConfig(files.relayOut, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    loads = false;
    io.out(`\n${files.relayOut} does NOT load yet:\n${error.message}`);
  }
  if (loads) io.out(`${files.relayOut} loads (checked with duo-relay's config loader)`);
  printNotes(result.notes, io.out);
  return loads ? 0 : 1;
}

const HEADINGS: Record<ImportNote['kind'], string> = {
  manual: 'Needs you (placeholders written in their place)',
  unsupported: 'Not carried over (no equivalent in the relay)',
  unknown: 'Not carried over (not an option Duo documents for that section)',
  changed: 'Carried over, but behaves differently',
};

export function printNotes(notes: ReadonlyArray<ImportNote>, out: (s: string) => void): void {
  for (const kind of ['manual', 'unsupported', 'unknown', 'changed'] as const) {
    const list = notes.filter((n) => n.kind === kind);
    if (list.length === 0) continue;
    out(`\n${HEADINGS[kind]}:`);
    for (const n of list) out(`  [${n.section}]${n.key ? ` ${n.key}` : ''}: ${n.reason}`);
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
