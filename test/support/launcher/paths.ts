import { join, resolve } from 'node:path';

/** The checkout the stacks run from. */
export const ROOT = resolve(import.meta.dirname, '../../..');
/** `duo-relay` as this checkout ships it. */
export const DUO_RELAY_BIN = join(ROOT, 'local-relay/bin/duo-relay.js');
