import type { SectionReader } from './section-reader.ts';

/**
 * Duo's client sections (primary authentication) as the relay's `[primary]` table:
 * `[ad_client]` → `type = "ldap"`, `[radius_client]` → `type = "radius"`, `[duo_only_client]` → none.
 */

export type SecretValue = string | { env: string };

export interface ConvertedClient {
  name: string;
  kind: 'ldap' | 'radius' | 'duo_only';
  /** The relay's `[primary]` table (absent for duo_only_client). */
  primary?: Record<string, unknown>;
  debug: boolean;
  /** Every option of the section, to list them when the section is not used. */
  options: string[];
}

export interface SecretSink {
  /** A `*_protected` secret (Windows DPAPI) cannot be read: stand in an env reference, say so. */
  placeholder(r: SectionReader, key: string, what: string): { env: string };
}

export function convertAdClient(r: SectionReader, secrets: SecretSink): ConvertedClient {
  const primary: Record<string, unknown> = { type: 'ldap' };
  const hosts = [r.take('host'), ...r.numbered('host_').map(({ key }) => r.take(key))].filter(
    (h): h is string => h !== undefined && h !== '',
  );
  if (hosts.length === 0) r.note('manual', 'host', 'no host: set primary.hosts');
  primary.hosts = hosts.length > 0 ? hosts : ['dc.example.com'];
  const port = r.number('port');
  if (port !== undefined) primary.port = port;

  const transport = r.take('transport')?.toLowerCase();
  if (transport === undefined || transport === 'clear') {
    primary.transport = 'clear';
    r.note(
      'changed',
      'transport',
      `${transport === undefined ? "Duo's default " : ''}"clear" kept: passwords cross the network in clear text with ` +
        'a simple bind (the relay does not do NTLM); set transport = "ldaps" or "starttls"',
    );
  } else if (transport === 'ldaps' || transport === 'starttls') primary.transport = transport;
  else r.note('unsupported', 'transport', `unknown transport ${transport}`);

  const ca = r.take('ssl_ca_certs_file');
  if (ca) primary.ca_file = ca;
  const verify = r.bool('ssl_verify_hostname');
  if (verify !== undefined) primary.verify_hostname = verify;

  const account = r.take('service_account_username');
  if (account) primary.service_account_dn = account;
  else r.note('manual', 'service_account_username', 'no service account: set primary.service_account_dn');
  const protectedPassword = r.take('service_account_password_protected');
  const password = r.take('service_account_password');
  if (protectedPassword !== undefined) {
    primary.service_account_password = secrets.placeholder(
      r,
      'service_account_password_protected',
      'the LDAP service account password',
    );
  } else if (password) primary.service_account_password = password;
  else
    primary.service_account_password = secrets.placeholder(
      r,
      'service_account_password',
      'the LDAP service account password',
    );
  if (account === undefined) primary.service_account_dn = 'CN=duo-relay,CN=Users,DC=example,DC=com';

  // search_dn, then search_dn_1, search_dn_2 … in their order: all are searched.
  const searchDns = [r.take('search_dn'), ...r.numbered('search_dn_').map((extra) => r.take(extra.key))].filter(
    (dn): dn is string => dn !== undefined && dn !== '',
  );
  if (searchDns.length === 1) primary.search_dn = searchDns[0];
  else if (searchDns.length > 1) primary.search_dn = searchDns;
  else {
    r.note('manual', 'search_dn', 'search_dn is required: set primary.search_dn');
    primary.search_dn = 'DC=example,DC=com';
  }
  const group = r.take('security_group_dn');
  if (group) primary.security_group_dn = group;
  const filter = r.take('ldap_filter');
  if (filter) primary.ldap_filter = filter;
  const attribute = r.take('username_attribute');
  if (attribute) primary.username_attribute = attribute;
  // The proxy looks up user@domain logins by at_attribute, userPrincipalName unless set.
  primary.at_attribute = r.take('at_attribute') || 'userPrincipalName';
  const timeout = r.number('timeout');
  if (timeout !== undefined) primary.timeout_ms = Math.round(timeout * 1000);

  const authType = r.take('auth_type')?.toLowerCase();
  if (authType === undefined) {
    r.note('changed', 'auth_type', "Duo's default NTLMv2 bind becomes an LDAP simple bind (use ldaps or starttls)");
  } else if (authType !== 'plain') {
    r.note(
      'unsupported',
      'auth_type',
      `${authType} (NTLM/SSPI) binds are not supported: the relay uses an LDAP simple bind`,
    );
  }
  for (const key of ['ntlm_domain', 'ntlm_workstation']) {
    if (r.take(key) !== undefined) r.note('unsupported', key, 'NTLM is not supported (LDAP simple bind only)');
  }
  for (const [key, why] of [['bind_dn', 'the relay binds as the DN its search finds']] as const) {
    if (r.take(key) !== undefined) r.note('unsupported', key, why);
  }
  return { name: r.name, kind: 'ldap', primary, debug: r.bool('debug') === true, options: optionsOf(r) };
}

export function convertRadiusClient(r: SectionReader, secrets: SecretSink): ConvertedClient {
  const pairs: string[] = [];
  const first = r.take('host') ?? r.take('host_1');
  r.take('host_1');
  const firstPort = r.number('port') ?? r.number('port_1');
  if (first) pairs.push(hostPort(first, firstPort));
  for (const { n, key } of r.numbered('host_')) {
    if (n === 1) continue;
    const host = r.take(key);
    if (host) pairs.push(hostPort(host, r.number(`port_${n}`)));
  }
  for (const { n, key } of r.numbered('port_'))
    if (n !== 1 && !r.has(`host_${n}`)) r.note('unknown', key, 'no matching host');
  const primary: Record<string, unknown> = { type: 'radius' };
  if (pairs.length === 0) {
    r.note('manual', 'host', 'no host: set primary.hosts');
    pairs.push('radius.example.com:1812');
  }
  primary.hosts = pairs;
  const protectedSecret = r.take('secret_protected');
  const secret = r.take('secret');
  primary.secret =
    protectedSecret !== undefined
      ? secrets.placeholder(r, 'secret_protected', 'the upstream RADIUS secret')
      : secret || secrets.placeholder(r, 'secret', 'the upstream RADIUS secret');
  const retries = r.number('retries');
  if (retries !== undefined) primary.retries = retries;
  const wait = r.number('retry_wait');
  if (wait !== undefined) primary.retry_wait_ms = Math.round(wait * 1000);
  const nasIp = r.take('nas_ip');
  if (nasIp) primary.nas_ip = nasIp;
  passThrough(r, primary);
  r.note(
    'changed',
    undefined,
    "the relay requires Message-Authenticator on the upstream's replies (BlastRADIUS); Duo's proxy did not. " +
      'If the upstream does not sign them (older NPS or FreeRADIUS), set primary.require_message_authenticator = false',
  );
  pwCodec(r);
  return { name: r.name, kind: 'radius', primary, debug: r.bool('debug') === true, options: optionsOf(r) };
}

export function convertDuoOnlyClient(r: SectionReader): ConvertedClient {
  return { name: r.name, kind: 'duo_only', debug: r.bool('debug') === true, options: optionsOf(r) };
}

/** `pass_through_attr_names` / `pass_through_all` (client or server section) into the radius primary. */
export function passThrough(r: SectionReader, primary: Record<string, unknown>): void {
  const names = r.take('pass_through_attr_names');
  if (names) {
    const list = names
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    const existing = (primary.pass_through_attr_names as string[] | undefined) ?? [];
    primary.pass_through_attr_names = [...new Set([...existing, ...list])];
  }
  const all = r.bool('pass_through_all');
  if (all) primary.pass_through_all = true;
}

export function pwCodec(r: SectionReader): void {
  const codec = r.take('pw_codec');
  if (codec !== undefined && !/^utf-?8$/i.test(codec)) {
    r.note('unsupported', 'pw_codec', `${codec}: the relay decodes passwords as UTF-8 only`);
  }
}

function hostPort(host: string, port: number | undefined): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}

const optionsOf = (r: SectionReader): string[] => [...r.section.values.keys()];
