import { describe, expect, it } from 'vitest';
import { freePort } from '../support/slapd.ts';
import { ldapLogin, useSlapdPrimary } from '../support/slapd-primary-fixture.ts';

const unreachable = { kind: 'error', detail: 'LDAP server unreachable' };
const directory = useSlapdPrimary();
const { primary } = directory;

describe('LDAP primary against slapd: rejected logins', () => {
  it.each(['clear', 'starttls', 'ldaps'] as const)('rejects a wrong password over %s', async (transport) => {
    expect(await primary({}, transport).authenticate(ldapLogin('alice', 'bob-pass'))).toEqual({
      kind: 'reject',
      reason: 'wrong password',
    });
  });

  it('rejects an unknown user', async () => {
    expect(await primary().authenticate(ldapLogin('mallory', 'x'))).toEqual({ kind: 'reject', reason: 'unknown user' });
  });

  it('rejects a user matched twice rather than picking one', async () => {
    const outcome = await primary().authenticate(ldapLogin('twin', 'twin-pass'));
    expect(outcome.kind).toBe('reject');
    expect(outcome.kind === 'reject' && outcome.reason).toMatch(/^ambiguous user/);
  });

  it('group_member: rejects a user outside the security group, right password or not', async () => {
    const ldap = primary({
      security_group_dn: `cn=vpn-users,ou=groups,${directory.slapd.baseDn}`,
      group_membership: 'group_member',
    });
    expect(await ldap.authenticate(ldapLogin('grace', 'grace-pass'))).toEqual({
      kind: 'reject',
      reason: 'not in security group',
    });
  });

  it('member_of: only direct groups count (the overlay does not nest) and outsiders are rejected', async () => {
    const ldap = primary({
      security_group_dn: `cn=vpn-users,ou=groups,${directory.slapd.baseDn}`,
      group_membership: 'member_of',
    });
    const notFound = { kind: 'reject', reason: 'unknown user or not in security group' };
    expect(await ldap.authenticate(ldapLogin('frank', 'frank-pass'))).toEqual(notFound);
    expect(await ldap.authenticate(ldapLogin('grace', 'grace-pass'))).toEqual(notFound);
  });

  it('rejects a user that ldap_filter excludes', async () => {
    const ldap = await directory.filtered('(cn=somebody-else)');
    expect(await ldap.authenticate(ldapLogin('carol', 'carol-pass'))).toEqual({
      kind: 'reject',
      reason: 'unknown user',
    });
  });
});

describe('LDAP primary against slapd: directory problems end in an error outcome', () => {
  it('a closed port', async () => {
    const hosts = [`ldap://127.0.0.1:${await freePort()}`];
    expect(await primary({ hosts }, 'clear').authenticate(ldapLogin('alice', 'alice-pass'))).toEqual(unreachable);
  });

  it('every host closed: still one error outcome after trying them all', async () => {
    const hosts = [`ldaps://127.0.0.1:${await freePort()}`, `ldaps://127.0.0.1:${await freePort()}`];
    expect(await primary({ hosts }).authenticate(ldapLogin('alice', 'alice-pass'))).toEqual(unreachable);
  });

  // Bounded by the configured timeouts; the test timeout is the only clock asserted on.
  it.each(['clear', 'starttls', 'ldaps'] as const)(
    'a server that accepts but never answers (%s)',
    async (transport) => {
      const hosts = [`127.0.0.1:${directory.silent.port}`];
      const ldap = primary({ hosts, connect_timeout_ms: 300, timeout_ms: 300 }, transport);
      expect(await ldap.authenticate(ldapLogin('alice', 'alice-pass'))).toEqual(unreachable);
    },
  );

  it('a hung host fails over to a working one', async () => {
    const ldap = primary({ hosts: [directory.silent.url, directory.slapd.ldapUrl], timeout_ms: 300 }, 'starttls');
    expect(await ldap.authenticate(ldapLogin('alice', 'alice-pass'))).toEqual({ kind: 'accept' });
  });

  it('an untrusted certificate (no ca_file) is a connection failure, over ldaps and StartTLS', async () => {
    const noCa = { ca_file: undefined };
    expect(await primary(noCa, 'ldaps').authenticate(ldapLogin('alice', 'alice-pass'))).toEqual(unreachable);
    expect(await primary(noCa, 'starttls').authenticate(ldapLogin('alice', 'alice-pass'))).toEqual(unreachable);
  });

  it('a wrong service-account password is an error, not a user rejection', async () => {
    expect(await primary({ service_account_password: 'nope' }).authenticate(ldapLogin('alice', 'alice-pass'))).toEqual({
      kind: 'error',
      detail: 'LDAP service account rejected',
    });
  });

  it('a search_dn that does not exist is a directory error', async () => {
    expect(
      await primary({ search_dn: 'ou=nowhere,dc=example,dc=org' }).authenticate(ldapLogin('alice', 'alice-pass')),
    ).toEqual({
      kind: 'error',
      detail: 'LDAP directory error',
    });
  });

  it('an abort settles the request at once, with long timeouts configured', async () => {
    const ldap = primary({ hosts: [directory.silent.url], connect_timeout_ms: 60_000, timeout_ms: 60_000 }, 'clear');
    const controller = new AbortController();
    const pending = ldap.authenticate(ldapLogin('alice', 'alice-pass'), controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect(await pending).toEqual({ kind: 'error', detail: 'LDAP request aborted' });
  });

  it('close() ends in-flight requests', async () => {
    const ldap = primary({ hosts: [directory.silent.url], connect_timeout_ms: 60_000, timeout_ms: 60_000 }, 'clear');
    const pending = ldap.authenticate(ldapLogin('alice', 'alice-pass'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await ldap.close?.();
    expect(await pending).toEqual({ kind: 'error', detail: 'LDAP request aborted' });
  });

  it('check() reports each host and fails when one is down', async () => {
    const down = `ldaps://127.0.0.1:${await freePort()}`;
    const result = await primary({ hosts: [directory.slapd.ldapsUrl, down] }).check?.();
    expect(result?.ok).toBe(false);
    expect(result?.detail).toMatch(/service account bound.*ECONNREFUSED/);
  });
});
