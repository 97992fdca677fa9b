import { z } from 'zod';
import { normalizeConfigFilter } from './ldap-filter.ts';

/**
 * The `[primary]` section for LDAP / Active Directory. Keys follow Duo's `[ad_client]` where the
 * concept is the same. `service_account_password` arrives already resolved: the relay's config
 * loader turns `file:` / `env:` references into the secret before this schema sees it.
 */

/** An attribute description (RFC 4512 `descr` or numeric OID): config text that lands in filters. */
const attributeName = z
  .string()
  .regex(/^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$/, 'must be an LDAP attribute name or OID');

const hostEntry = z
  .string()
  .min(1)
  .refine((value) => parseHostEntry(value) !== undefined, {
    message: 'must be `host`, `host:port`, `ldap://host[:port]` or `ldaps://host[:port]`',
  });

export const ldapConfigSchema = z
  .object({
    /** Tried in order; the next one is used only when one cannot be reached (failover). */
    hosts: z.array(hostEntry).min(1),
    /** Port for entries given without one. Default 636 for `ldaps`, 389 otherwise. */
    port: z.number().int().min(1).max(65535).optional(),
    /** Duo's default is `clear`; ours is `ldaps`. `clear` is warned about at startup. */
    transport: z.enum(['ldaps', 'starttls', 'clear']).default('ldaps'),
    /** PEM file with the CA(s) to trust instead of Node's bundled roots. */
    ca_file: z.string().min(1).optional(),
    verify_hostname: z.boolean().default(true),
    service_account_dn: z.string().min(1),
    /** Never empty: an empty-password bind is an unauthenticated bind that many servers accept. */
    service_account_password: z.string().min(1),
    /** One base or several (authproxy's search_dn_1, search_dn_2 …), all searched for the user. */
    search_dn: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .transform((v) => (typeof v === 'string' ? [v] : v)),
    username_attribute: attributeName.default('sAMAccountName'),
    /** Logins containing `@` are looked up by this attribute instead (Duo's at_attribute). */
    at_attribute: attributeName.optional(),
    /** An extra RFC 4515 filter ANDed into the user search, e.g. `(objectClass=user)`. */
    ldap_filter: z
      .string()
      .optional()
      // Async only when there is a filter (its parser loads then): a config without one parses sync.
      .transform((value, ctx) => {
        if (value === undefined || value.trim() === '') return undefined;
        return normalizeConfigFilter(value).then((normalized) => {
          if (normalized !== undefined) return normalized;
          ctx.addIssue({ code: 'custom', message: 'must be one parenthesized RFC 4515 filter' });
          return z.NEVER;
        });
      }),
    security_group_dn: z.string().min(1).optional(),
    /**
     * How `security_group_dn` membership is checked:
     * - `ad_nested`: Active Directory, nested groups, via the LDAP_MATCHING_RULE_IN_CHAIN OID on memberOf;
     * - `member_of`: a `memberOf` attribute on the user (OpenLDAP memberof overlay), direct groups only;
     * - `group_member`: groups' `member` / `uniqueMember` values, following nested groups upward.
     */
    group_membership: z.enum(['ad_nested', 'member_of', 'group_member']).default('ad_nested'),
    /** Where `group_member` looks for groups. Default: the first `search_dn`. */
    group_search_dn: z.string().min(1).optional(),
    /** TCP connect (plus the TLS handshake for `ldaps`) per host. */
    connect_timeout_ms: z.number().int().positive().default(5000),
    /** Each LDAP operation (StartTLS, bind, search). */
    timeout_ms: z.number().int().positive().default(10_000),
  })
  .strict()
  .superRefine((config, ctx) => {
    config.hosts.forEach((host, index) => {
      const scheme = parseHostEntry(host)?.scheme;
      if (scheme === 'ldaps' && config.transport !== 'ldaps') {
        ctx.addIssue({ code: 'custom', path: ['hosts', index], message: 'ldaps:// needs transport = "ldaps"' });
      }
      if (scheme === 'ldap' && config.transport === 'ldaps') {
        ctx.addIssue({
          code: 'custom',
          path: ['hosts', index],
          message: 'ldap:// cannot be used with transport = "ldaps"',
        });
      }
    });
  });

export type LdapConfig = z.output<typeof ldapConfigSchema>;

export interface LdapEndpoint {
  host: string;
  port: number;
}

interface HostEntry {
  scheme?: 'ldap' | 'ldaps';
  host: string;
  port?: number;
}

function parseHostEntry(value: string): HostEntry | undefined {
  const match = /^(?:(ldaps?):\/\/)?(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+)(?::(\d{1,5}))?\/?$/.exec(value);
  if (!match?.[2]) return undefined;
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { scheme: match[1] as HostEntry['scheme'], host: match[2].replace(/^\[|\]$/g, ''), port };
}

/** The hosts in failover order, each with its effective port. */
export function ldapEndpoints(config: LdapConfig): LdapEndpoint[] {
  const defaultPort = config.port ?? (config.transport === 'ldaps' ? 636 : 389);
  return config.hosts.map((value) => {
    const entry = parseHostEntry(value);
    if (!entry) throw new Error(`invalid LDAP host ${value}`);
    return { host: entry.host, port: entry.port ?? defaultPort };
  });
}
