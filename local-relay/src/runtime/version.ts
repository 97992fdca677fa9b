import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Defined by the release bundler as the version string, because a bundle has no package.json beside
 * it. Run from the sources it is undefined, and the version comes from the package's manifest.
 */
declare const DUO_RELAY_BUILD_VERSION: string | undefined;

/** The relay package's version (`duo-relay --version`, heartbeats). */
export const RELAY_VERSION: string =
  typeof DUO_RELAY_BUILD_VERSION === 'string' ? DUO_RELAY_BUILD_VERSION : manifestVersion();

function manifestVersion(): string {
  const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'));
  return (manifest as { version: string }).version;
}
