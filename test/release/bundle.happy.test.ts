import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE } from '../../scripts/release/build.ts';
import { artifact } from './dist.ts';

/**
 * What the bundle's text costs a running relay: V8 keeps a script's source for the life of the
 * process, as one byte per character only if no character is above U+00FF.
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

  it("carries zod's English messages and no other locale", () => {
    // esbuild marks each bundled module with a `// <path>` line.
    const locales = [...code.matchAll(/^\/\/ node_modules\/zod\/v4\/locales\/([\w-]+)\.js$/gm)].map((m) => m[1]);
    expect(locales.sort()).toEqual(['en', 'index']);
  });
});
