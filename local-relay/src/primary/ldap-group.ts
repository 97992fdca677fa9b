import type { Client } from 'ldapts';
import { groupsContainingFilter } from './ldap-filter.ts';
import { toWireFilter } from './ldap-wire-filter.ts';

/**
 * The `group_member` strategy: walk up from the user through the groups that list it in `member`
 * or `uniqueMember`, one search per level, until the security group shows up. Works on any
 * directory (no memberOf overlay needed) and follows nested groups.
 */

/** Nesting deeper than this is treated as "not a member" rather than searched forever. */
const MAX_DEPTH = 10;

export async function isGroupMember(
  client: Client,
  options: { userDn: string; groupDn: string; groupSearchDn: string },
): Promise<boolean> {
  const target = normalizeDn(options.groupDn);
  const seen = new Set([normalizeDn(options.userDn)]);
  let frontier = [options.userDn];
  for (let depth = 0; depth < MAX_DEPTH && frontier.length > 0; depth++) {
    const { searchEntries } = await client.search(options.groupSearchDn, {
      scope: 'sub',
      filter: toWireFilter(groupsContainingFilter(frontier)),
      attributes: ['1.1'],
    });
    const next: string[] = [];
    for (const { dn } of searchEntries) {
      const key = normalizeDn(dn);
      if (key === target) return true;
      if (!seen.has(key)) {
        seen.add(key);
        next.push(dn);
      }
    }
    frontier = next;
  }
  return false;
}

/** Case and spacing differences between the configured DN and the server's form do not matter. */
function normalizeDn(dn: string): string {
  return dn
    .toLowerCase()
    .replace(/\s*([,=+])\s*/g, '$1')
    .trim();
}
