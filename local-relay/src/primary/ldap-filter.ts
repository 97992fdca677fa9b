/**
 * RFC 4515 search filters. Every value placed into a filter goes through `escapeFilterValue`; the
 * result is pure ASCII, so the filter text that is logged is byte for byte the filter that is sent.
 */

/** Active Directory's LDAP_MATCHING_RULE_IN_CHAIN: membership through any depth of nested groups. */
export const AD_MATCHING_RULE_IN_CHAIN = '1.2.840.113556.1.4.1941';

export type GroupClause = { strategy: 'ad_nested' | 'member_of'; groupDn: string };

/**
 * Escapes `*`, `(`, `)`, `\` and NUL as RFC 4515 requires, and also every other byte outside
 * printable ASCII (control characters, and each UTF-8 byte of non-ASCII characters), which the RFC
 * permits and which keeps filter text safe to log.
 */
export function escapeFilterValue(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0x20 && code < 0x7f && !'*()\\'.includes(char)) {
      out += char;
    } else {
      for (const byte of Buffer.from(char, 'utf8')) out += `\\${byte.toString(16).padStart(2, '0')}`;
    }
  }
  return out;
}

/** `(&(<attr>=<username>)<extra filter>[group clause])`, every value escaped. */
export function buildUserFilter(options: {
  usernameAttribute: string;
  username: string;
  extraFilter?: string;
  group?: GroupClause;
}): string {
  let filter = `(${options.usernameAttribute}=${escapeFilterValue(options.username)})`;
  if (options.extraFilter) filter += options.extraFilter;
  if (options.group) filter += groupClause(options.group);
  return `(&${filter})`;
}

function groupClause(group: GroupClause): string {
  const dn = escapeFilterValue(group.groupDn);
  switch (group.strategy) {
    case 'ad_nested':
      return `(memberOf:${AD_MATCHING_RULE_IN_CHAIN}:=${dn})`;
    case 'member_of':
      return `(memberOf=${dn})`;
  }
}

/** Groups (groupOfNames / groupOfUniqueNames / AD group) that directly list any of `memberDns`. */
export function groupsContainingFilter(memberDns: readonly string[]): string {
  const members = memberDns
    .map(escapeFilterValue)
    .map((dn) => `(member=${dn})(uniqueMember=${dn})`)
    .join('');
  return `(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group))(|${members}))`;
}

/**
 * Validates an admin-written filter (one parenthesized filter, balanced, parseable) and returns it
 * with literal non-ASCII characters escaped, so it obeys the same pure-ASCII rule as built filters.
 * `undefined` when it is not a valid filter.
 */
export async function normalizeConfigFilter(text: string): Promise<string | undefined> {
  const trimmed = text.trim();
  let normalized = '';
  for (const char of trimmed) normalized += (char.codePointAt(0) ?? 0) < 0x80 ? char : escapeFilterValue(char);
  if (!isSingleBalancedFilter(normalized)) return undefined;
  // ldapts is the parser the filter is sent with; loaded here, only for an LDAP config that has one.
  const { FilterParser } = await import('ldapts');
  try {
    FilterParser.parseString(normalized);
    return normalized;
  } catch {
    return undefined;
  }
}

function isSingleBalancedFilter(text: string): boolean {
  if (!text.startsWith('(') || !text.endsWith(')')) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    // The outermost filter must close only at the very end: no `(a=b)(c=d)` and no stray `)`.
    if (depth < 0 || (depth === 0 && i < text.length - 1)) return false;
  }
  return depth === 0;
}
