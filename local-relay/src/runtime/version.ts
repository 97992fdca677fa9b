import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The relay package's version (reported in heartbeats). */
export const RELAY_VERSION: string = (
  JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }
).version;
