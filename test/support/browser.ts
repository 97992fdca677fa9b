import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/**
 * Debian's chromium driven by playwright-core, headless, for console tests. The flags keep it
 * off the network (no component updates, sync or background fetches, which stall on a closed
 * network) and let it run as root.
 */

export const ARTIFACTS_DIR = resolve(import.meta.dirname, '../../test-artifacts');

export interface RunningBrowser {
  /** The one context of a fresh profile (its own user-data-dir). */
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<RunningBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'duo-edge-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--headless',
    ],
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Where a test's screenshots go (gitignored). */
export async function artifactsDir(name: string): Promise<string> {
  const dir = join(ARTIFACTS_DIR, name);
  await mkdir(dir, { recursive: true });
  return dir;
}
