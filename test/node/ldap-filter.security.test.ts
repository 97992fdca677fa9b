import fc from 'fast-check';
import { AndFilter, EqualityFilter, ExtensibleFilter, type SubstringFilter } from 'ldapts';
import { describe, expect, it } from 'vitest';
import {
  buildUserFilter,
  escapeFilterValue,
  groupsContainingFilter,
  normalizeConfigFilter,
} from '../../local-relay/src/primary/ldap-filter.ts';
import { toWireFilter } from '../../local-relay/src/primary/ldap-wire-filter.ts';

describe('escapeFilterValue (RFC 4515)', () => {
  it('escapes the five characters RFC 4515 requires', () => {
    expect(escapeFilterValue('*')).toBe('\\2a');
    expect(escapeFilterValue('(')).toBe('\\28');
    expect(escapeFilterValue(')')).toBe('\\29');
    expect(escapeFilterValue('\\')).toBe('\\5c');
    expect(escapeFilterValue('\0')).toBe('\\00');
  });

  it('escapes each UTF-8 byte of non-ASCII characters and control characters', () => {
    expect(escapeFilterValue('josé')).toBe('jos\\c3\\a9');
    expect(escapeFilterValue('€')).toBe('\\e2\\82\\ac');
    expect(escapeFilterValue('😀')).toBe('\\f0\\9f\\98\\80');
    expect(escapeFilterValue('a\nb\x7f')).toBe('a\\0ab\\7f');
  });

  it('leaves ordinary printable ASCII alone', () => {
    expect(escapeFilterValue("alice.smith@example.org=ok, O'Neil")).toBe("alice.smith@example.org=ok, O'Neil");
  });

  it('turns the injection attempt *)(uid=* into an inert value', () => {
    expect(escapeFilterValue('*)(uid=*')).toBe('\\2a\\29\\28uid=\\2a');
    const filter = toWireFilter(buildUserFilter({ usernameAttribute: 'uid', username: '*)(uid=*' }));
    expect(filter).toBeInstanceOf(AndFilter);
    const [only, ...rest] = (filter as AndFilter).filters;
    expect(rest).toEqual([]);
    expect(only).toBeInstanceOf(EqualityFilter);
    expect(Buffer.from((only as EqualityFilter).value).toString('utf8')).toBe('*)(uid=*');
  });

  it('property: escaped text is printable ASCII without unescaped specials', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const escaped = escapeFilterValue(value);
        expect(escaped).toMatch(/^[\x20-\x7e]*$/);
        expect(escaped.replace(/\\[0-9a-f]{2}/g, '')).not.toMatch(/[*()\\]/);
      }),
    );
  });

  it('property: any username reaches the wire as one equality match with its exact UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (username) => {
        const filter = toWireFilter(buildUserFilter({ usernameAttribute: 'uid', username }));
        const [only, ...rest] = (filter as AndFilter).filters;
        expect(rest).toEqual([]);
        expect(only).toBeInstanceOf(EqualityFilter);
        expect(Buffer.from((only as EqualityFilter).value)).toEqual(Buffer.from(username, 'utf8'));
      }),
    );
  });
});

describe('buildUserFilter', () => {
  it('AD nested groups use LDAP_MATCHING_RULE_IN_CHAIN on memberOf', () => {
    const text = buildUserFilter({
      usernameAttribute: 'sAMAccountName',
      username: 'alice',
      extraFilter: '(objectCategory=person)',
      group: { strategy: 'ad_nested', groupDn: 'CN=VPN Users (EU),OU=Groups,DC=corp,DC=example' },
    });
    expect(text).toBe(
      '(&(sAMAccountName=alice)(objectCategory=person)(memberOf:1.2.840.113556.1.4.1941:=CN=VPN Users \\28EU\\29,OU=Groups,DC=corp,DC=example))',
    );
    const [, , chain] = (toWireFilter(text) as AndFilter).filters;
    expect(chain).toBeInstanceOf(ExtensibleFilter);
    expect((chain as ExtensibleFilter).rule).toBe('1.2.840.113556.1.4.1941');
    expect((chain as ExtensibleFilter).matchType).toBe('memberOf');
    expect((chain as ExtensibleFilter).value).toBe('CN=VPN Users (EU),OU=Groups,DC=corp,DC=example');
  });

  it('member_of uses a plain equality match on memberOf', () => {
    expect(
      buildUserFilter({
        usernameAttribute: 'uid',
        username: 'bob',
        group: { strategy: 'member_of', groupDn: 'cn=vpn-users,ou=groups,dc=example,dc=org' },
      }),
    ).toBe('(&(uid=bob)(memberOf=cn=vpn-users,ou=groups,dc=example,dc=org))');
  });

  it('escapes DNs in the group-walk filter too', () => {
    expect(groupsContainingFilter(['uid=a*,dc=x'])).toBe(
      '(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group))(|(member=uid=a\\2a,dc=x)(uniqueMember=uid=a\\2a,dc=x)))',
    );
  });
});

describe('toWireFilter byte fidelity', () => {
  it('sends \\XX escapes as those bytes, also for binary values such as objectGUID', () => {
    const filter = toWireFilter('(objectGUID=\\01\\ff\\00)') as EqualityFilter;
    expect(Buffer.from(filter.value)).toEqual(Buffer.from([0x01, 0xff, 0x00]));
  });

  it('re-decodes UTF-8 in substring and extensible values', () => {
    const sub = toWireFilter('(cn=jos\\c3\\a9*)') as SubstringFilter;
    expect(sub.initial).toBe('josé');
    const ext = toWireFilter('(memberOf:1.2.840.113556.1.4.1941:=cn=caf\\c3\\a9)') as ExtensibleFilter;
    expect(ext.value).toBe('cn=café');
  });
});

describe('normalizeConfigFilter (admin-written ldap_filter)', () => {
  it('accepts one parenthesized filter and escapes literal non-ASCII', async () => {
    expect(await normalizeConfigFilter(' (objectClass=user) ')).toBe('(objectClass=user)');
    expect(await normalizeConfigFilter('(department=Bücher)')).toBe('(department=B\\c3\\bccher)');
    expect(await normalizeConfigFilter('(&(a=b)(!(c=d)))')).toBe('(&(a=b)(!(c=d)))');
  });

  it('rejects text that is not exactly one balanced filter', async () => {
    for (const bad of ['objectClass=user', '(a=b)(c=d)', '(&(a=b)(c=d)', '(a=b))', '(a=b\\2)', '(a=b)x', '()']) {
      expect(await normalizeConfigFilter(bad), bad).toBeUndefined();
    }
  });
});
