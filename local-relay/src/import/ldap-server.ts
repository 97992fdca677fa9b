import type { SectionReader } from './section-reader.ts';
import { type ConvertedServer, readDuoSettings, readFactors } from './servers.ts';

/**
 * `[ldap_server_auto]` → one `[[ldap_server]]`. Duo's defaults are written out where the relay's
 * differ (exempt_primary_bind is true in Duo's proxy, false in the relay), so an imported
 * configuration behaves as it did.
 */

const LDAP_FACTORS: ReadonlySet<string> = new Set(['auto', 'push', 'phone']);
const TLS_VERSIONS: Record<string, string> = { 'tlsv1.2': 'TLSv1.2', 'tlsv1.3': 'TLSv1.3' };

export function convertLdapServer(r: SectionReader, defaultInterface: string | undefined): ConvertedServer {
  const { integration, failmode } = readDuoSettings(r);
  const server: Record<string, unknown> = {};
  const iface = r.take('interface') ?? defaultInterface;
  const host = iface && iface !== '' ? iface : '0.0.0.0';
  const at = (port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
  server.listen = [at(r.number('port') ?? 389)];
  const cert = r.take('ssl_cert_path');
  const key = r.take('ssl_key_path');
  const sslPort = r.number('ssl_port') ?? 636;
  if (cert && key) {
    server.tls_cert_file = cert;
    server.tls_key_file = key;
    server.ldaps_listen = [at(sslPort)];
  } else if (cert || key) {
    r.note('unsupported', cert ? 'ssl_cert_path' : 'ssl_key_path', 'needs both ssl_cert_path and ssl_key_path');
  }

  const primaryBind = r.bool('exempt_primary_bind') ?? true;
  server.exempt_primary_bind = primaryBind;
  if (primaryBind) {
    r.note(
      'changed',
      'exempt_primary_bind',
      "kept as Duo's default (true): the first successful bind on each connection skips Duo; the relay's own " +
        'default is false, with service accounts listed in exempt_ou',
    );
  }
  const ous = r.numbered('exempt_ou_').map(({ key }) => r.take(key)!);
  if (ous.length > 0) server.exempt_ou = ous;
  for (const key of ['allow_searches_after_bind', 'allow_unlimited_binds', 'allow_concat'] as const) {
    const v = r.bool(key);
    if (v !== undefined) server[key] = v;
  }
  if (/passcode/i.test(r.section.values.get('factors') ?? '')) {
    r.note('changed', 'factors', 'a bind has no challenge round: a passcode comes as the ,123456 password suffix');
  }
  const factors = readFactors(r, new Set([...LDAP_FACTORS, 'passcode']))?.filter((f) => f !== 'passcode');
  if (factors?.length) server.factors = factors;
  const delimiter = r.take('delimiter');
  if (delimiter) server.delimiter = delimiter;
  const length = r.number('delimited_password_length');
  if (length !== undefined) server.delimited_password_length = length;
  const idle = r.number('idle_timeout');
  if (idle !== undefined) server.idle_timeout_ms = idle * 1000;
  if (r.take('network_timeout') !== undefined) {
    r.note('changed', 'network_timeout', 'the directory timeouts are [primary] connect_timeout_ms and timeout_ms');
  }
  const tls = r.take('minimum_tls_version');
  if (tls !== undefined) {
    const v = TLS_VERSIONS[tls.toLowerCase()];
    if (v) server.minimum_tls_version = v;
    else r.note('changed', 'minimum_tls_version', `${tls}: the relay accepts TLS 1.2 and newer only`);
  }
  if (r.take('cipher_list') !== undefined) r.note('unsupported', 'cipher_list', "Node's default TLS ciphers are used");
  const client = r.take('client');
  return {
    name: r.name,
    mode: 'auto',
    server,
    integration,
    ...(failmode ? { failmode } : {}),
    exemptUsernames: [],
    ...(client ? { client } : {}),
    debug: r.bool('debug') === true,
    reader: r,
    ldap: true,
  };
}
