import { BusyError, InvalidCredentialsError, ResultCodeError, UnavailableError } from 'ldapts';
import type { Logger } from 'pino';
import { type LdapConfig, type LdapEndpoint, ldapEndpoints } from './ldap-config.ts';
import { connectionSettingsOf } from './ldap-connection.ts';
import { buildUserFilter } from './ldap-filter.ts';
import { isGroupMember } from './ldap-group.ts';
import { LdapSession, SessionClosedError } from './ldap-session.ts';
import { lookupAttribute, searchUser } from './ldap-user-search.ts';
import { toWireFilter } from './ldap-wire-filter.ts';
import type { PrimaryAuthenticator, PrimaryOutcome, PrimaryRequest } from './types.ts';

export { type LdapConfig, ldapConfigSchema } from './ldap-config.ts';

/**
 * LDAP / Active Directory primary authentication: bind as the service account, find the user's
 * entry (exactly one), then bind as that entry with the user's password on a fresh connection.
 * Hosts are tried in order; only a host that cannot be reached sends the request to the next one.
 */

export interface LdapPrimaryDeps {
  logger: Logger;
}

type Decision =
  | { kind: 'accept'; userDn: string }
  | { kind: 'reject'; reason: string }
  /** The directory answered, but not in a way that lets anyone log in; another host would not help. */
  | { kind: 'error'; detail: string; cause: string };

export function createLdapPrimary(config: LdapConfig, deps: LdapPrimaryDeps): PrimaryAuthenticator {
  const logger = deps.logger.child({ component: 'primary-ldap' });
  const endpoints = ldapEndpoints(config);
  const settings = connectionSettingsOf(config);
  if (config.transport === 'clear') {
    logger.warn('LDAP transport is "clear": user and service-account passwords cross the network unencrypted');
  }
  if (!config.verify_hostname) {
    logger.warn('LDAP verify_hostname is off: any certificate from the trusted CA is accepted for every host');
  }
  const live = new Set<LdapSession>();

  async function withSession<T>(work: (session: LdapSession) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const session = new LdapSession(settings);
    live.add(session);
    try {
      return await session.run(work, signal);
    } finally {
      live.delete(session);
    }
  }

  async function authenticateOn(
    session: LdapSession,
    endpoint: LdapEndpoint,
    username: string,
    password: string,
  ): Promise<Decision> {
    const group = config.security_group_dn;
    const filterGroup =
      group !== undefined && config.group_membership !== 'group_member'
        ? { strategy: config.group_membership, groupDn: group }
        : undefined;
    const filter = buildUserFilter({
      usernameAttribute: lookupAttribute(config, username),
      username,
      extraFilter: config.ldap_filter,
      group: filterGroup,
    });

    let userDn: string;
    const service = await session.open(endpoint);
    try {
      try {
        await service.bind(config.service_account_dn, config.service_account_password);
      } catch (error) {
        if (error instanceof InvalidCredentialsError) {
          return { kind: 'error', detail: 'LDAP service account rejected', cause: describe(error) };
        }
        throw error;
      }
      const found = await searchUser(service, config.search_dn, toWireFilter(filter));
      if (found.kind === 'none') {
        return { kind: 'reject', reason: filterGroup ? 'unknown user or not in security group' : 'unknown user' };
      }
      if (found.kind === 'ambiguous') {
        return { kind: 'reject', reason: `ambiguous user: ${found.dns[0]} and ${found.dns[1]} both match` };
      }
      userDn = found.dn;
      if (group !== undefined && config.group_membership === 'group_member') {
        const member = await isGroupMember(service, {
          userDn,
          groupDn: group,
          groupSearchDn: config.group_search_dn ?? config.search_dn[0]!,
        });
        if (!member) return { kind: 'reject', reason: 'not in security group' };
      }
    } finally {
      await session.release(service);
    }

    const user = await session.open(endpoint);
    try {
      await user.bind(userDn, password);
      return { kind: 'accept', userDn };
    } catch (error) {
      if (error instanceof InvalidCredentialsError) return { kind: 'reject', reason: 'wrong password' };
      // The server answered about this user (locked, must change password, ...): a refusal.
      if (error instanceof ResultCodeError && !isFailoverError(error)) {
        return { kind: 'reject', reason: `user bind refused: ${describe(error)}` };
      }
      throw error;
    } finally {
      await session.release(user);
    }
  }

  async function decide(session: LdapSession, username: string, password: string): Promise<Decision> {
    for (const endpoint of endpoints) {
      try {
        return await authenticateOn(session, endpoint, username, password);
      } catch (error) {
        if (error instanceof SessionClosedError) throw error;
        if (!isFailoverError(error)) {
          return { kind: 'error', detail: 'LDAP directory error', cause: `${hostLabel(endpoint)}: ${describe(error)}` };
        }
        logger.warn({ host: hostLabel(endpoint), err: describe(error) }, 'LDAP host unavailable; trying the next');
      }
    }
    return { kind: 'error', detail: 'LDAP server unreachable', cause: 'no configured host could be reached' };
  }

  return {
    kind: 'ldap',

    async authenticate(req: PrimaryRequest, signal?: AbortSignal): Promise<PrimaryOutcome> {
      const { username, password } = req;
      const log = logger.child({ username, clientIp: req.clientIp });
      const refusal = refuseBeforeBind(username, password);
      if (refusal !== undefined || password === undefined) {
        log.info({ reason: refusal }, 'LDAP primary authentication rejected');
        return { kind: 'reject', reason: refusal ?? 'no cleartext password' };
      }

      let decision: Decision;
      try {
        decision = await withSession((session) => decide(session, username, password), signal);
      } catch (error) {
        if (!(error instanceof SessionClosedError)) throw error;
        decision = { kind: 'error', detail: 'LDAP request aborted', cause: 'aborted' };
      }
      switch (decision.kind) {
        case 'accept':
          log.info({ userDn: decision.userDn }, 'LDAP primary authentication accepted');
          return { kind: 'accept' };
        case 'reject':
          log.info({ reason: decision.reason }, 'LDAP primary authentication rejected');
          return { kind: 'reject', reason: decision.reason };
        case 'error':
          log.warn({ reason: decision.cause }, `LDAP primary authentication failed: ${decision.detail}`);
          return { kind: 'error', detail: decision.detail };
      }
    },

    async check(signal?: AbortSignal): Promise<{ ok: boolean; detail: string }> {
      const results = await withSession(async (session) => {
        const lines: Array<{ ok: boolean; line: string }> = [];
        for (const endpoint of endpoints) {
          const label = hostLabel(endpoint);
          try {
            const client = await session.open(endpoint);
            try {
              await client.bind(config.service_account_dn, config.service_account_password);
              for (const base of config.search_dn) await client.search(base, { scope: 'base', attributes: ['1.1'] });
            } finally {
              await session.release(client);
            }
            lines.push({ ok: true, line: `${label}: service account bound, search_dn readable` });
          } catch (error) {
            if (error instanceof SessionClosedError) throw error;
            lines.push({ ok: false, line: `${label}: ${describe(error)}` });
          }
        }
        return lines;
      }, signal).catch((error: unknown) => {
        if (error instanceof SessionClosedError) return [{ ok: false, line: 'aborted' }];
        throw error;
      });
      return { ok: results.every((r) => r.ok), detail: results.map((r) => r.line).join('; ') };
    },

    async close(): Promise<void> {
      await Promise.all([...live].map((session) => session.close()));
    },
  };
}

/**
 * Requests no bind may be attempted for. Above all an empty password: binding with a DN and an
 * empty password is an unauthenticated bind (RFC 4513 5.1.2), which many servers answer with success.
 */
function refuseBeforeBind(username: string, password: string | undefined): string | undefined {
  if (username === '') return 'empty username';
  if (password === undefined) return 'no cleartext password';
  if (password === '') return 'empty password';
  return undefined;
}

/** Could another host do better? Yes when this one was unreachable, timed out, failed TLS, or said busy. */
function isFailoverError(error: unknown): boolean {
  if (error instanceof BusyError || error instanceof UnavailableError) return true;
  return !(error instanceof ResultCodeError);
}

function hostLabel(endpoint: LdapEndpoint): string {
  return `${endpoint.host}:${endpoint.port}`;
}

/** Error name, code and message: enough to diagnose, and never a password (none is ever in them). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${error.name}${code === undefined ? '' : ` ${String(code)}`}: ${error.message}`;
}
