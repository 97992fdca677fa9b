import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, ROOT } from '../../scripts/release/build.ts';
import { bundleRelay } from '../../scripts/release/bundle.ts';
import { artifact } from './dist.ts';

/**
 * What the bundle's text costs a running relay: V8 keeps a script's source for the life of the
 * process, as one byte per character only if no character is above U+00FF, and every blank the
 * text carries.
 */
describe('duo-relay.cjs (the bundle in every artifact)', () => {
  let code: string;
  beforeAll(async () => {
    code = await readFile(artifact(BUNDLE), 'utf8');
  });

  it('is Latin-1 text, so the relay holds its source at one byte per character', () => {
    const wide = [...code.matchAll(/[\u0100-\uffff]/g)].map((m) => code.slice(Math.max(0, m.index - 30), m.index + 5));
    expect(wide).toEqual([]);
  });

  it('is minified, so the relay holds no indentation or per-module comments as source', () => {
    // esbuild's `// <path>` line before each module is the first thing whitespace minifying drops.
    expect(code).not.toMatch(/^\/\/ (local-relay|node_modules|src)\//m);
    expect(code.split('\n').length).toBeLessThan(1_000);
  });

  it("carries zod's English messages and no other locale", async () => {
    // The bundle is minified (no `// <path>` line per module): esbuild's record of its inputs says.
    const dir = await mkdtemp(join(tmpdir(), 'duo-relay-bundle-'));
    try {
      const { metafile } = await bundleRelay(ROOT, '0.0.0-test', join(dir, BUNDLE));
      const locales = Object.keys(metafile.inputs).flatMap((path) => {
        const m = /node_modules\/zod\/v4\/locales\/([\w-]+)\.js$/.exec(path);
        return m ? [m[1]] : [];
      });
      expect(locales.sort()).toEqual(['en', 'index']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
