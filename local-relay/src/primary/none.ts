import type { PrimaryAuthenticator } from './types.ts';

/**
 * No primary (duo_only sections). It is never asked: reaching `authenticate` is a wiring bug, and
 * a bug must not let anyone in.
 */
export function createNonePrimary(): PrimaryAuthenticator {
  return {
    kind: 'none',
    async authenticate() {
      return { kind: 'error', detail: 'no primary authentication configured' };
    },
  };
}
