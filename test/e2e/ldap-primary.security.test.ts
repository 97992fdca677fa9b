import { Client } from 'ldapts';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ldapLogin, useSlapdPrimary } from '../support/slapd-primary-fixture.ts';

const logLines: string[] = [];
const directory = useSlapdPrimary(pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) }));
const { primary } = directory;

describe('LDAP primary: empty passwords never reach a bind', () => {
  it('this slapd would accept an empty-password bind for a real user DN (the danger is real)', async () => {
    const client = new Client({ url: directory.slapd.ldapUrl, timeout: 2000, connectTimeout: 2000 });
    try {
      await expect(client.bind(`uid=alice,ou=people,${directory.slapd.baseDn}`, '')).resolves.toBeUndefined();
    } finally {
      await client.unbind();
    }
  });

  it('rejects an empty password from the real directory', async () => {
    expect(await primary().authenticate(ldapLogin('alice', ''))).toEqual({ kind: 'reject', reason: 'empty password' });
  });

  it('opens no connection at all for an empty or missing password, or an empty username', async () => {
    const ldap = primary({ hosts: [directory.silent.url] }, 'clear');
    const before = directory.silent.connections();
    expect(await ldap.authenticate(ldapLogin('alice', ''))).toEqual({ kind: 'reject', reason: 'empty password' });
    expect(await ldap.authenticate(ldapLogin('alice'))).toEqual({ kind: 'reject', reason: 'no cleartext password' });
    expect(await ldap.authenticate(ldapLogin('', 'alice-pass'))).toEqual({ kind: 'reject', reason: 'empty username' });
    expect(directory.silent.connections()).toBe(before);
  });
});

describe('LDAP primary: filter injection', () => {
  it.each(['*)(uid=*', '*', 'alice)(uid=*', 'al*', '*)(|(uid=*', 'alice\0'])(
    'username %j matches no one',
    async (username) => {
      expect(await primary().authenticate(ldapLogin(username, 'alice-pass'))).toEqual({
        kind: 'reject',
        reason: 'unknown user',
      });
    },
  );

  it('a group DN with filter syntax cannot widen the search either', async () => {
    const ldap = primary({ security_group_dn: '*)(uid=*', group_membership: 'member_of' });
    expect(await ldap.authenticate(ldapLogin('alice', 'alice-pass'))).toEqual({
      kind: 'reject',
      reason: 'unknown user or not in security group',
    });
  });
});

describe('LDAP primary: TLS identity (verify_hostname defaults on)', () => {
  it.each(['ldaps', 'starttls'] as const)(
    'refuses a trusted certificate that does not name the host (%s)',
    async (transport) => {
      logLines.length = 0;
      const ldap = primary(
        { hosts: [transport === 'ldaps' ? directory.slapd.ldapsUrlWrongName : directory.slapd.ldapUrlWrongName] },
        transport,
      );
      expect(await ldap.authenticate(ldapLogin('alice', 'alice-pass'))).toEqual({
        kind: 'error',
        detail: 'LDAP server unreachable',
      });
      expect(logLines.join('')).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    },
  );

  it('the same listener is fine when the name matches, so the name check is what refused it', async () => {
    const ldap = primary({ hosts: [directory.slapd.ldapUrlWrongName], verify_hostname: false }, 'starttls');
    expect(await ldap.authenticate(ldapLogin('alice', 'alice-pass'))).toEqual({ kind: 'accept' });
  });
});

describe('LDAP primary: logs', () => {
  it('warns at startup when the transport is clear', () => {
    logLines.length = 0;
    primary({}, 'clear');
    expect(logLines.some((line) => line.includes('"level":40') && line.includes('unencrypted'))).toBe(true);
  });

  it('logs every outcome with its reason and never a password', async () => {
    logLines.length = 0;
    const ldap = primary();
    await ldap.authenticate(ldapLogin('alice', 'alice-pass'));
    await ldap.authenticate(ldapLogin('bob', 'wrong-secret-1'));
    await ldap.authenticate(ldapLogin('mallory', 'wrong-secret-2'));
    await primary({ service_account_password: 'wrong-secret-3' }).authenticate(ldapLogin('carol', 'carol-pass'));
    const text = logLines.join('');
    expect(text).toContain('accepted');
    expect(text).toContain('wrong password');
    expect(text).toContain('unknown user');
    expect(text).toContain('LDAP service account rejected');
    for (const secret of [
      'alice-pass',
      'wrong-secret-1',
      'wrong-secret-2',
      'wrong-secret-3',
      'carol-pass',
      directory.slapd.servicePassword,
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});
