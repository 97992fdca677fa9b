import { describe, expect, it } from 'vitest';
import { freePort } from '../support/slapd.ts';
import { ldapLogin, useSlapdPrimary } from '../support/slapd-primary-fixture.ts';

const directory = useSlapdPrimary();
const { primary } = directory;

describe('LDAP primary against slapd: accepted logins', () => {
  it.each(['clear', 'starttls', 'ldaps'] as const)('accepts the right password over %s', async (transport) => {
    expect(await primary({}, transport).authenticate(ldapLogin('alice', 'alice-pass'))).toEqual({ kind: 'accept' });
  });

  it('accepts every demo user with its demo password', async () => {
    const ldap = primary();
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace']) {
      expect(await ldap.authenticate(ldapLogin(name, `${name}-pass`)), name).toEqual({ kind: 'accept' });
    }
  });

  it('finds a non-ASCII username (its UTF-8 bytes reach the server intact)', async () => {
    expect(await primary().authenticate(ldapLogin('josé', 'jose-pass'))).toEqual({ kind: 'accept' });
  });

  it('group_member: accepts direct and nested members of the security group', async () => {
    const ldap = primary({
      security_group_dn: `cn=vpn-users,ou=groups,${directory.slapd.baseDn}`,
      group_membership: 'group_member',
    });
    expect(await ldap.authenticate(ldapLogin('alice', 'alice-pass'))).toEqual({ kind: 'accept' });
    // frank is in vpn-contractors, which is a member of vpn-users.
    expect(await ldap.authenticate(ldapLogin('frank', 'frank-pass'))).toEqual({ kind: 'accept' });
  });

  it('group_member: the configured group DN may differ in case and spacing', async () => {
    const ldap = primary({
      security_group_dn: 'CN=VPN-Users, OU=Groups, DC=example, DC=org',
      group_membership: 'group_member',
      group_search_dn: `ou=groups,${directory.slapd.baseDn}`,
    });
    expect(await ldap.authenticate(ldapLogin('frank', 'frank-pass'))).toEqual({ kind: 'accept' });
  });

  it('member_of (memberof overlay): accepts a direct member', async () => {
    const ldap = primary({
      security_group_dn: `cn=vpn-users,ou=groups,${directory.slapd.baseDn}`,
      group_membership: 'member_of',
    });
    expect(await ldap.authenticate(ldapLogin('bob', 'bob-pass'))).toEqual({ kind: 'accept' });
  });

  it('ANDs ldap_filter into the user search', async () => {
    expect(
      await (await directory.filtered('(objectClass=inetOrgPerson)')).authenticate(ldapLogin('carol', 'carol-pass')),
    ).toEqual({
      kind: 'accept',
    });
  });

  it('fails over from a closed port to the next host', async () => {
    const closed = `ldaps://127.0.0.1:${await freePort()}`;
    expect(
      await primary({ hosts: [closed, directory.slapd.ldapsUrl] }).authenticate(ldapLogin('dave', 'dave-pass')),
    ).toEqual({
      kind: 'accept',
    });
  });

  it('verify_hostname = false accepts a trusted certificate that does not name the host', async () => {
    const ldap = primary({ hosts: [directory.slapd.ldapsUrlWrongName], verify_hostname: false });
    expect(await ldap.authenticate(ldapLogin('erin', 'erin-pass'))).toEqual({ kind: 'accept' });
  });

  it('check(): the service account binds and search_dn is readable on every host', async () => {
    const result = await primary({ hosts: [directory.slapd.ldapsUrl, directory.slapd.ldapsUrl] }).check?.();
    expect(result?.ok).toBe(true);
    expect(result?.detail).toContain('service account bound');
  });
});

// Authproxy parity: UPN-style logins through at_attribute (slapd's `mail` stands in for AD's
// userPrincipalName) and several search_dn.
describe('at_attribute: logins with an @ are looked up by that attribute', () => {
  it('alice@corp.example.com is found by mail and binds with her password; plain alice still by uid', async () => {
    const ldap = primary({ at_attribute: 'mail' });
    expect(await ldap.authenticate(ldapLogin('alice@corp.example.com', 'alice-pass'))).toEqual({ kind: 'accept' });
    expect(await ldap.authenticate(ldapLogin('alice', 'alice-pass'))).toEqual({ kind: 'accept' });
    expect(await ldap.authenticate(ldapLogin('alice@corp.example.com', 'bob-pass'))).toEqual({
      kind: 'reject',
      reason: 'wrong password',
    });
  });

  it('without at_attribute the same login is an unknown user', async () => {
    expect(await primary().authenticate(ldapLogin('alice@corp.example.com', 'alice-pass'))).toEqual({
      kind: 'reject',
      reason: 'unknown user',
    });
  });
});

describe('several search_dn', () => {
  const base = (ou: string) => `ou=${ou},${directory.slapd.baseDn}`;

  it('a user under any of the bases is found', async () => {
    const ldap = primary({ search_dn: [base('contractors'), base('people')] });
    expect(await ldap.authenticate(ldapLogin('alice', 'alice-pass'))).toEqual({ kind: 'accept' });
  });

  it('one entry under overlapping bases counts once; two different entries are ambiguous, never the first', async () => {
    expect(
      await primary({ search_dn: [base('people'), directory.slapd.baseDn] }).authenticate(
        ldapLogin('alice', 'alice-pass'),
      ),
    ).toEqual({ kind: 'accept' });
    expect(await primary({ search_dn: [base('people')] }).authenticate(ldapLogin('twin', 'twin-pass'))).toEqual({
      kind: 'accept',
    });
    const twin = await primary({ search_dn: [base('people'), base('contractors')] }).authenticate(
      ldapLogin('twin', 'twin-pass'),
    );
    expect(twin).toMatchObject({ kind: 'reject', reason: expect.stringMatching(/^ambiguous user: /) });
  });

  it('check(): every base must be readable', async () => {
    expect((await primary({ search_dn: [base('people'), base('contractors')] }).check!()).ok).toBe(true);
    expect((await primary({ search_dn: [base('people'), base('nowhere')] }).check!()).ok).toBe(false);
  });
});
