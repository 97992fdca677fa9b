import { readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';

export interface RelayBundle {
  /** One CommonJS file with the relay and every module it imports, dependencies included. */
  file: string;
  /** esbuild's record of what went in (the SBOM is made from it). */
  metafile: Metafile;
}

/**
 * Bundles the relay CLI the way `local-relay/bin/duo-relay.js` starts it, following every import
 * (shared contract modules, npm dependencies) wherever it resolves. CommonJS because Node 24's
 * single-executable applications run a CommonJS main; the same file is the npm package's bin.
 */
export async function bundleRelay(root: string, version: string, outfile: string): Promise<RelayBundle> {
  const result = await build({
    stdin: {
      // The bin's top-level await has no CommonJS form; this is the same call without it.
      contents:
        "import { main } from './local-relay/src/cli/main.ts';\nmain(process.argv.slice(2)).then((code) => { process.exitCode = code; });\n",
      resolveDir: root,
      sourcefile: 'duo-relay-entry.ts',
      loader: 'ts',
    },
    absWorkingDir: root,
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    banner: { js: '#!/usr/bin/env node' },
    // A bundle has no package.json beside it: the version is a constant (runtime/version.ts).
    define: { DUO_RELAY_BUILD_VERSION: JSON.stringify(version) },
    // Folds `typeof "<version>" === 'string'`, so the manifest reader and its import.meta go away.
    minifySyntax: true,
    // V8 keeps a script's source for the life of the process: without the indentation, line breaks
    // and comments the relay holds 0.3 MiB less (names stay, so stack traces still read).
    minifyWhitespace: true,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'silent',
    plugins: [zodEnglishOnly],
  });
  // esbuild warns about every `import.meta` in a CommonJS bundle, even in code it then drops (the
  // manifest reader above). One that survives is an empty object at run time: a wrong path.
  const live = /\bimport_meta\d*\b/.test(await readFile(outfile, 'utf8'));
  const problems = result.warnings.filter((w) => w.id !== 'empty-import-meta' || live);
  if (problems.length > 0) {
    const where = (w: (typeof problems)[number]) => (w.location ? `${w.location.file}:${w.location.line}: ` : '');
    throw new Error(`bundling the relay:\n${problems.map((w) => `${where(w)}${w.text}`).join('\n')}`);
  }
  await writeFile(outfile, latin1Only(await readFile(outfile, 'utf8')));
  return { file: outfile, metafile: result.metafile };
}

/**
 * zod's namespaces (`z`, `core`) carry every message locale (some 60 modules, non-Latin text
 * included); the relay only ever uses English, which zod configures from `locales/en.js` directly.
 * zod's locale index is read as English only, so the others are neither bundled nor kept in memory.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * esbuild escapes non-ASCII in strings, but comments it keeps verbatim (an em dash, an arrow). One
 * character above U+00FF makes V8 hold the whole bundle's source as two bytes per character, twice
 * its size for the life of the process; escaped, the text inside comments reads the same.
 */
function latin1Only(code: string): string {
  // Per UTF-16 unit (no `u` flag): a character outside the BMP becomes its surrogate pair's escapes.
  return code.replace(/[\u0100-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
