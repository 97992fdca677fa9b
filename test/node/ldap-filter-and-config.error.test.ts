import { describe, expect, it } from 'vitest';
import { ldapConfigSchema, ldapEndpoints } from '../../local-relay/src/primary/ldap-config.ts';

const minimal = {
  hosts: ['dc1.corp.example'],
  service_account_dn: 'CN=svc-duo,OU=Service,DC=corp,DC=example',
  service_account_password: 'resolved-secret',
  search_dn: 'DC=corp,DC=example',
};

describe('ldapConfigSchema', () => {
  it('fills the secure defaults', () => {
    const config = ldapConfigSchema.parse(minimal);
    expect(config).toMatchObject({
      transport: 'ldaps',
      verify_hostname: true,
      username_attribute: 'sAMAccountName',
      group_membership: 'ad_nested',
      connect_timeout_ms: 5000,
      timeout_ms: 10_000,
    });
    expect(config.ldap_filter).toBeUndefined();
    expect(ldapEndpoints(config)).toEqual([{ host: 'dc1.corp.example', port: 636 }]);
  });

  it('resolves host forms to endpoints in failover order', () => {
    const config = ldapConfigSchema.parse({
      ...minimal,
      transport: 'starttls',
      hosts: ['ldap://dc1.corp.example', 'dc2.corp.example:3389', '10.0.0.5', '[::1]:1389', 'ldap://[2001:db8::1]/'],
    });
    expect(ldapEndpoints(config)).toEqual([
      { host: 'dc1.corp.example', port: 389 },
      { host: 'dc2.corp.example', port: 3389 },
      { host: '10.0.0.5', port: 389 },
      { host: '::1', port: 1389 },
      { host: '2001:db8::1', port: 389 },
    ]);
    expect(ldapEndpoints(ldapConfigSchema.parse({ ...minimal, port: 3269 }))).toEqual([
      { host: 'dc1.corp.example', port: 3269 },
    ]);
  });

  it('refuses a URL scheme that contradicts the transport', () => {
    expect(ldapConfigSchema.safeParse({ ...minimal, hosts: ['ldap://dc1'] }).success).toBe(false);
    expect(ldapConfigSchema.safeParse({ ...minimal, hosts: ['ldaps://dc1'], transport: 'starttls' }).success).toBe(
      false,
    );
  });

  it('refuses an empty service-account password (it would be an unauthenticated bind)', () => {
    expect(ldapConfigSchema.safeParse({ ...minimal, service_account_password: '' }).success).toBe(false);
  });

  it('refuses a username_attribute that could smuggle filter syntax', () => {
    expect(ldapConfigSchema.safeParse({ ...minimal, username_attribute: 'uid=*)(cn' }).success).toBe(false);
    expect(ldapConfigSchema.parse({ ...minimal, username_attribute: 'userPrincipalName' }).username_attribute).toBe(
      'userPrincipalName',
    );
  });

  it('validates and normalizes ldap_filter', async () => {
    expect((await ldapConfigSchema.safeParseAsync({ ...minimal, ldap_filter: 'objectClass=user' })).success).toBe(
      false,
    );
    expect((await ldapConfigSchema.safeParseAsync({ ...minimal, ldap_filter: '(a=b)(c=d)' })).success).toBe(false);
    expect((await ldapConfigSchema.parseAsync({ ...minimal, ldap_filter: '(ou=Zürich)' })).ldap_filter).toBe(
      '(ou=Z\\c3\\bcrich)',
    );
    expect(ldapConfigSchema.parse({ ...minimal, ldap_filter: '  ' }).ldap_filter).toBeUndefined();
  });

  it('refuses unknown keys, empty host lists and malformed hosts', () => {
    expect(ldapConfigSchema.safeParse({ ...minimal, search_base: 'x' }).success).toBe(false);
    expect(ldapConfigSchema.safeParse({ ...minimal, hosts: [] }).success).toBe(false);
    expect(ldapConfigSchema.safeParse({ ...minimal, hosts: ['http://dc1'] }).success).toBe(false);
    expect(ldapConfigSchema.safeParse({ ...minimal, hosts: ['dc1:0'] }).success).toBe(false);
  });
});
