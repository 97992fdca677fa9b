import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'smol-toml';
import { type ProcessRun, runProcess } from './process.ts';
import { type Slapd, slapdPrimaryConfig } from './slapd.ts';
import { type RelaySetup, writeRelayConfig } from './stack.ts';

/**
 * A relay whose `[[ldap_server]]` proxies to a test slapd, and Debian's LDAP clients pointed at
 * it. The relay.toml is the stack's (site key, edge, RADIUS on a spare port) with `[primary]`
 * switched to the slapd and an `[[ldap_server]]` section added.
 */

export interface LdapProxySetup extends RelaySetup {
  slapd: Slapd;
  ldapPort: number;
  ldapsPort?: number;
  /** Directory holding server.pem / server.key (slapd's makeCertificates) for StartTLS and LDAPS. */
  certDir?: string;
  /** Overrides of the [primary] keys (slapdPrimaryConfig's). */
  primary?: Record<string, unknown>;
  /** Extra `key = value` lines for the [[ldap_server]] section. */
  section?: string[];
  /** Further sections appended verbatim (e.g. a second `[[ldap_server]]`). */
  extraSections?: string[];
}

export async function writeLdapProxyConfig(dir: string, s: LdapProxySetup): Promise<string> {
  const file = await writeRelayConfig(dir, s);
  // The [primary] the LDAP primary tests use, with room for a loaded machine on the relay's own binds.
  const primary = stringify({
    primary: { type: 'ldap', ...slapdPrimaryConfig(s.slapd), timeout_ms: 5000, ...s.primary },
  });
  const tls = s.certDir
    ? `tls_cert_file = "${join(s.certDir, 'server.pem')}"\ntls_key_file = "${join(s.certDir, 'server.key')}"\n`
    : '';
  const ldaps = s.ldapsPort ? `ldaps_listen = ["127.0.0.1:${s.ldapsPort}"]\n` : '';
  const section = `
[[ldap_server]]
listen = ["127.0.0.1:${s.ldapPort}"]
${ldaps}${tls}${(s.section ?? []).join('\n')}
${(s.extraSections ?? []).join('\n\n')}
`;
  const toml =
    (await readFile(file, 'utf8')).replace(/\[primary\]\ntype = "users_file"\npath = "users.txt"\n/, `${primary}\n`) +
    section;
  await writeFile(file, toml);
  return file;
}

export interface LdapTool {
  url: string;
  /** CA file for ldaps:// and -ZZ. */
  caFile?: string;
  startTls?: boolean;
}

/** `ldapwhoami -x -D dn -w password`: exit 0 and `dn:...` on success, the result code as exit status otherwise. */
export function ldapwhoami(t: LdapTool, dn: string, password: string): Promise<ProcessRun> {
  return runLdapTool('ldapwhoami', t, ['-x', '-D', dn, '-w', password]);
}

/** `ldapsearch -x -LLL` with the given bind and arguments (base, filter, attributes...). */
export function ldapsearch(t: LdapTool, bind: { dn: string; password: string }, args: string[]): Promise<ProcessRun> {
  return runLdapTool('ldapsearch', t, [
    '-x',
    '-LLL',
    '-o',
    'ldif-wrap=no',
    '-D',
    bind.dn,
    '-w',
    bind.password,
    ...args,
  ]);
}

function runLdapTool(cmd: string, t: LdapTool, args: string[]): Promise<ProcessRun> {
  // The OpenLDAP tools read TLS settings from the environment; run them through env(1).
  const env = [`LDAPTLS_CACERT=${t.caFile ?? '/dev/null'}`, 'LDAPTLS_REQCERT=demand', 'LDAPCONF=/dev/null'];
  return runProcess('env', [...env, cmd, '-H', t.url, ...(t.startTls ? ['-ZZ'] : []), '-o', 'nettimeout=30', ...args], {
    killAfterMs: 60_000,
  });
}
