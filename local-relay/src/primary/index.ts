import type { Logger } from 'pino';
import type { PrimaryConfig } from '../config/schema.ts';
import { createNonePrimary } from './none.ts';
import type { PrimaryAuthenticator } from './types.ts';
import { createUsersFilePrimary } from './users-file.ts';

/** A primary, plus `reload` for the ones that read local files (SIGHUP). */
export type Primary = PrimaryAuthenticator & { reload?(): Promise<void> };

/**
 * Builds the configured primary (`[primary]`); duo_only-only configs have none. The LDAP and
 * upstream RADIUS primaries (and the LDAP library) are loaded only when configured: a relay with a
 * users file does not carry them in memory.
 */
export async function createPrimary(config: PrimaryConfig | undefined, deps: { logger: Logger }): Promise<Primary> {
  switch (config?.type) {
    case undefined:
    case 'none':
      return createNonePrimary();
    case 'users_file':
      return createUsersFilePrimary({ path: config.path }, deps);
    case 'ldap':
      return (await import('./ldap.ts')).createLdapPrimary(config.ldap, deps);
    case 'radius':
      return (await import('./radius-upstream.ts')).createRadiusUpstreamPrimary(config.radius, deps);
  }
}
