import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLdapPrimary, ldapConfigSchema } from '../../local-relay/src/primary/ldap.ts';
import { type Slapd, slapdPrimaryConfig, startSlapd } from '../support/slapd.ts';

/**
 * Authproxy parity of the LDAP primary against a real slapd: UPN-style logins through
 * `at_attribute` (slapd's `mail` stands in for AD's userPrincipalName) and several `search_dn`.
 */

const logger = pino({ level: 'silent' });
let slapd: Slapd;

beforeAll(async () => {
  slapd = await startSlapd();
});
afterAll(async () => {
  await slapd?.stop();
});

function primary(overrides: Record<string, unknown>) {
  return createLdapPrimary(ldapConfigSchema.parse({ ...slapdPrimaryConfig(slapd, 'clear'), ...overrides }), {
    logger,
  });
}

const login = (username: string, password: string) => ({ username, password, clientIp: '192.0.2.10' });

describe('at_attribute: logins with an @ are looked up by that attribute', () => {
  it('alice@corp.example.com is found by mail and binds with her password; plain alice still by uid', async () => {
    const ldap = primary({ at_attribute: 'mail' });
    expect(await ldap.authenticate(login('alice@corp.example.com', 'alice-pass'))).toEqual({ kind: 'accept' });
    expect(await ldap.authenticate(login('alice', 'alice-pass'))).toEqual({ kind: 'accept' });
    expect(await ldap.authenticate(login('alice@corp.example.com', 'bob-pass'))).toEqual({
      kind: 'reject',
      reason: 'wrong password',
    });
  });

  it('without at_attribute the same login is an unknown user', async () => {
    expect(await primary({}).authenticate(login('alice@corp.example.com', 'alice-pass'))).toEqual({
      kind: 'reject',
      reason: 'unknown user',
    });
  });
});

describe('several search_dn', () => {
  const base = (ou: string) => `ou=${ou},${slapd.baseDn}`;

  it('a user under any of the bases is found', async () => {
    const ldap = primary({ search_dn: [base('contractors'), base('people')] });
    expect(await ldap.authenticate(login('alice', 'alice-pass'))).toEqual({ kind: 'accept' });
  });

  it('one entry under overlapping bases counts once; two different entries are ambiguous, never the first', async () => {
    expect(
      await primary({ search_dn: [base('people'), slapd.baseDn] }).authenticate(login('alice', 'alice-pass')),
    ).toEqual({ kind: 'accept' });
    expect(await primary({ search_dn: [base('people')] }).authenticate(login('twin', 'twin-pass'))).toEqual({
      kind: 'accept',
    });
    const twin = await primary({ search_dn: [base('people'), base('contractors')] }).authenticate(
      login('twin', 'twin-pass'),
    );
    expect(twin).toMatchObject({ kind: 'reject', reason: expect.stringMatching(/^ambiguous user: /) });
  });

  it('check(): every base must be readable', async () => {
    expect((await primary({ search_dn: [base('people'), base('contractors')] }).check!()).ok).toBe(true);
    expect((await primary({ search_dn: [base('people'), base('nowhere')] }).check!()).ok).toBe(false);
  });
});
