import { type Logger, pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { createLdapPrimary, ldapConfigSchema } from '../../local-relay/src/primary/ldap.ts';
import { type SilentServer, type Slapd, slapdPrimaryConfig, startSilentServer, startSlapd } from './slapd.ts';

export type Transport = 'ldaps' | 'starttls' | 'clear';

/** One slapd and one hung directory for a test file, and the relay's LDAP primary pointed at them. */
export interface SlapdPrimaryFixture {
  /** Set once the file's beforeAll ran. */
  readonly slapd: Slapd;
  readonly silent: SilentServer;
  /** The LDAP primary on this slapd (`slapdPrimaryConfig`), with the test's settings spread over it. */
  primary(overrides?: Record<string, unknown>, transport?: Transport): ReturnType<typeof createLdapPrimary>;
  /** The same with an `ldap_filter`, whose check (by the LDAP library, loaded on demand) is async. */
  filtered(ldapFilter: string): Promise<ReturnType<typeof createLdapPrimary>>;
}

/**
 * Registers the file's beforeAll/afterAll that start and stop the directories. `logger` is what the
 * primary logs to: silent by default, a capturing one where a test reads the log.
 */
export function useSlapdPrimary(logger: Logger = pino({ level: 'silent' })): SlapdPrimaryFixture {
  let slapd: Slapd | undefined;
  let silent: SilentServer | undefined;
  beforeAll(async () => {
    slapd = await startSlapd();
    silent = await startSilentServer();
  });
  afterAll(async () => {
    await silent?.stop();
    await slapd?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('slapd fixture used outside a test (before beforeAll)');
    return value;
  };
  return {
    get slapd() {
      return started(slapd);
    },
    get silent() {
      return started(silent);
    },
    primary(overrides = {}, transport) {
      return createLdapPrimary(
        ldapConfigSchema.parse({ ...slapdPrimaryConfig(started(slapd), transport), ...overrides }),
        {
          logger,
        },
      );
    },
    async filtered(ldapFilter) {
      const config = { ...slapdPrimaryConfig(started(slapd)), ldap_filter: ldapFilter };
      return createLdapPrimary(await ldapConfigSchema.parseAsync(config), { logger });
    },
  };
}

/** A login as the flow hands it to a primary, from a fixed NAS address. */
export const ldapLogin = (username: string, password?: string) => ({ username, password, clientIp: '192.0.2.10' });
