import type { Client, SearchOptions } from 'ldapts';
import type { LdapConfig } from './ldap-config.ts';

/**
 * Which attribute a login name is looked up by: a name with an `@` (`alice@corp.example.com`) by
 * `at_attribute` when one is set (Duo's at_attribute, e.g. userPrincipalName), else
 * `username_attribute`.
 */
export const lookupAttribute = (config: LdapConfig, username: string): string =>
  username.includes('@') && config.at_attribute !== undefined ? config.at_attribute : config.username_attribute;

export type UserSearch = { kind: 'none' } | { kind: 'one'; dn: string } | { kind: 'ambiguous'; dns: [string, string] };

/**
 * Searches every `search_dn` in order for entries matching `filter`. The same entry under two
 * overlapping bases counts once; two different entries anywhere make the login ambiguous (rejected),
 * never "the first one found".
 */
export async function searchUser(
  client: Client,
  bases: ReadonlyArray<string>,
  filter: SearchOptions['filter'],
): Promise<UserSearch> {
  const found = new Set<string>();
  for (const base of bases) {
    // Two are enough to tell "exactly one" from "ambiguous".
    const { searchEntries } = await client.search(base, { scope: 'sub', filter, sizeLimit: 2, attributes: ['1.1'] });
    for (const entry of searchEntries) found.add(entry.dn);
    if (found.size > 1) break;
  }
  const [first, second] = found;
  if (first === undefined) return { kind: 'none' };
  return second === undefined ? { kind: 'one', dn: first } : { kind: 'ambiguous', dns: [first, second] };
}
