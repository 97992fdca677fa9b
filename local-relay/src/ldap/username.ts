import type { LdapConfig, LdapEndpoint } from '../primary/ldap-config.ts';
import type { ConnectionSettings } from '../primary/ldap-connection.ts';
import { LdapSession } from '../primary/ldap-session.ts';
import { parseDn } from './dn.ts';

/**
 * The Duo username of a bind name, the way the RADIUS side names users (the `[primary]`'s
 * `username_attribute`):
 * - a DN whose first RDN is that attribute (`uid=alice,ou=people,...` with `uid`): its value;
 * - any other DN (`CN=Alice Smith,OU=Staff,...` with `sAMAccountName`): the attribute's value on
 *   that entry, read with the service account;
 * - not a DN (`alice@corp.example.com`, `CORP\alice`, as Active Directory accepts): the name as
 *   sent; Duo's username normalization maps these forms to one user.
 * undefined: no username (unreadable DN, no such entry, none or several values). The bind is then
 * never allowed.
 */
export type UsernameOf = (bindName: string) => Promise<string | undefined>;

export function createUsernameOf(
  config: LdapConfig,
  endpoints: ReadonlyArray<LdapEndpoint>,
  settings: ConnectionSettings,
): UsernameOf {
  const attribute = config.username_attribute;
  return async (bindName) => {
    if (!bindName.includes('=')) return bindName === '' ? undefined : bindName;
    const rdns = parseDn(bindName);
    if (!rdns) return undefined;
    const first = rdns[0]!;
    if (first.type.toLowerCase() === attribute.toLowerCase()) return first.value === '' ? undefined : first.value;
    return readAttribute(bindName);
  };

  async function readAttribute(dn: string): Promise<string | undefined> {
    const session = new LdapSession(settings);
    return session.run(async (s) => {
      for (const endpoint of endpoints) {
        try {
          const client = await s.open(endpoint);
          try {
            await client.bind(config.service_account_dn, config.service_account_password);
            const { searchEntries } = await client.search(dn, { scope: 'base', attributes: [attribute] });
            const entry: Record<string, unknown> = searchEntries[0] ?? {};
            // Servers answer with the attribute's schema spelling, not necessarily ours.
            const name = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
            const value = name === undefined ? undefined : entry[name];
            return typeof value === 'string' && value !== '' ? value : undefined;
          } finally {
            await s.release(client);
          }
        } catch {
          // Unreachable host, unknown entry, refused service account: the next host, else no name.
        }
      }
      return undefined;
    });
  }
}
