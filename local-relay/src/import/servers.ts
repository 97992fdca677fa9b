import type { SecretSink, SecretValue } from './clients.ts';
import { pwCodec } from './clients.ts';
import { toCidrs } from './ip-ranges.ts';
import type { SectionReader } from './section-reader.ts';

/** A `[radius_server_*]` section as one `[[server]]` of relay.toml, plus what belongs to the edge. */

export type ServerMode = 'auto' | 'challenge' | 'concat' | 'duo_only';

export interface ConvertedServer {
  name: string;
  mode: ServerMode;
  server: Record<string, unknown>;
  integration: { ikey?: string; skey?: string; api_host?: string };
  failmode?: 'safe' | 'secure';
  factors?: string[];
  exemptUsernames: string[];
  /** Explicit `client=`. */
  client?: string;
  debug: boolean;
  /** Server-level pass-through options, for the radius primary. */
  reader: SectionReader;
  /** An `[ldap_server_auto]` section: becomes an `[[ldap_server]]`. */
  ldap?: true;
}

const FACTORS = new Set(['auto', 'push', 'phone', 'passcode']);
const CLIENT_IP_ATTR: Record<string, string> = {
  default: 'default',
  'calling-station-id': 'default',
  paloalto: 'paloalto',
  'paloalto-client-source-ip': 'paloalto',
  'framed-ip-address': 'framed-ip-address',
};

export function convertServer(
  r: SectionReader,
  mode: ServerMode,
  defaultInterface: string | undefined,
  secrets: SecretSink,
): ConvertedServer {
  const server: Record<string, unknown> = { mode };
  const { integration, failmode } = readDuoSettings(r);

  const iface = r.take('interface') ?? defaultInterface;
  const port = r.number('port') ?? 1812;
  const host = iface && iface !== '' ? iface : '0.0.0.0';
  server.listen = [host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`];

  server.client = radiusClients(r, secrets);

  // Duo reads exempt_username_1, _2, … and stops at the first gap.
  const exempt: string[] = [];
  let next = 1;
  for (; r.has(`exempt_username_${next}`); next++) exempt.push(r.take(`exempt_username_${next}`)!);
  for (const { n, key } of r.numbered('exempt_username_')) {
    if (n !== 0 && n < next) continue;
    r.take(key);
    r.note('unsupported', key, 'after a gap in the numbering: Duo stops at the first gap, so it never applied');
  }
  if (exempt.length > 0) server.exempt_usernames = exempt;

  const ipAttr = r.take('client_ip_attr');
  if (ipAttr !== undefined) {
    const mapped = CLIENT_IP_ATTR[ipAttr.toLowerCase()];
    if (mapped) server.client_ip_attr = mapped;
    else
      r.note(
        'unsupported',
        'client_ip_attr',
        `${ipAttr}: the relay reads Calling-Station-Id, PaloAlto-Client-Source-IP or Framed-IP-Address`,
      );
  }

  let factors: string[] | undefined;
  if (mode === 'auto') {
    factors = readFactors(r);
    if (factors) server.factors = factors;
    const concat = r.bool('allow_concat');
    if (concat !== undefined) server.allow_concat = concat;
  }
  if (mode === 'auto' || mode === 'concat') {
    const delimiter = r.take('delimiter') ?? r.take('delimeter');
    r.take('delimeter');
    if (delimiter) server.delimiter = delimiter;
    const length = r.number('delimited_password_length');
    if (length !== undefined) server.delimited_password_length = length;
  }
  if (mode === 'challenge') {
    const format = r.take('prompt_format')?.toLowerCase();
    if (format === 'console' || format === 'html' || format === 'short') server.prompt_format = format;
    else if (format !== undefined) r.note('unsupported', 'prompt_format', `${format}: expected console, html or short`);
    const enroll = r.bool('enroll_challenge');
    if (enroll !== undefined) server.enroll_challenge = enroll;
  }
  if (mode === 'duo_only' && failmode !== 'secure') {
    server.duo_only_failopen_acknowledged = true;
    r.note(
      'changed',
      'failmode',
      'duo_only with failmode safe lets anyone with a username in while Duo is unreachable: kept with ' +
        'duo_only_failopen_acknowledged = true; consider failmode = secure',
    );
  }

  const forceMa = r.bool('force_message_authenticator');
  if (forceMa === false) {
    r.note(
      'changed',
      'force_message_authenticator',
      'the relay always requires Message-Authenticator unless a client sets require_message_authenticator = false',
    );
  }
  pwCodec(r);
  for (const key of ['http_proxy_host', 'http_proxy_port']) {
    if (r.take(key) !== undefined) r.note('unsupported', key, 'one proxy for the whole relay: set it in [main]');
  }
  const client = r.take('client');
  return {
    name: r.name,
    mode,
    server,
    integration,
    ...(failmode ? { failmode } : {}),
    ...(factors ? { factors } : {}),
    exemptUsernames: exempt,
    ...(client ? { client } : {}),
    debug: r.bool('debug') === true,
    reader: r,
  };
}

/** The Duo integration keys and failmode every server section carries (RADIUS and LDAP). */
export function readDuoSettings(r: SectionReader): {
  integration: ConvertedServer['integration'];
  failmode?: 'safe' | 'secure';
} {
  const integration: ConvertedServer['integration'] = {};
  const ikey = r.take('ikey');
  if (ikey) integration.ikey = ikey;
  const apiHost = r.take('api_host');
  if (apiHost) integration.api_host = apiHost;
  if (r.take('skey_protected') !== undefined) {
    r.note(
      'manual',
      'skey_protected',
      'protected with Windows DPAPI, which cannot be read here: put the skey into the site file',
    );
  }
  const skey = r.take('skey');
  if (skey) integration.skey = skey;
  for (const key of ['ikey', 'api_host'] as const) {
    if (!integration[key]) r.note('manual', key, `missing: set it in the site file's integration`);
  }
  if (!integration.skey && !r.has('skey_protected'))
    r.note('manual', 'skey', "missing: set it in the site file's integration");
  if (r.take('api_port') !== undefined) r.note('unsupported', 'api_port', 'the edge calls Duo on port 443');
  if (r.take('api_timeout') !== undefined) {
    r.note(
      'unsupported',
      'api_timeout',
      'the edge has its own Duo deadlines (site options preauth_deadline_ms, auth_deadline_ms)',
    );
  }

  let failmode: 'safe' | 'secure' | undefined;
  const fm = r.take('failmode')?.toLowerCase();
  if (fm === 'safe' || fm === 'secure') failmode = fm;
  else if (fm !== undefined) r.note('unsupported', 'failmode', `${fm} is neither safe nor secure`);

  return { integration, ...(failmode ? { failmode } : {}) };
}

/** `factors = auto,push,...`: the list, or undefined (absent, or noted as unsupported). */
export function readFactors(r: SectionReader, allowed: ReadonlySet<string> = FACTORS): string[] | undefined {
  const f = r.take('factors');
  if (f === undefined) return undefined;
  const list = f
    .split(',')
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean);
  const bad = list.filter((x) => !allowed.has(x));
  if (bad.length > 0 || list.length === 0) {
    r.note('unsupported', 'factors', `${f}: expected a list of ${[...allowed].join(', ')}`);
    return undefined;
  }
  return [...new Set(list)];
}

function radiusClients(r: SectionReader, secrets: SecretSink): Array<Record<string, unknown>> {
  const clients: Array<Record<string, unknown>> = [];
  for (const { n, key } of r.numbered('radius_ip_')) {
    const ip = r.take(key)!;
    const secretKey = `radius_secret_${n}`;
    const protectedKey = `radius_secret_protected_${n}`;
    let secret: SecretValue | undefined;
    if (r.has(protectedKey)) {
      r.take(protectedKey);
      secret = secrets.placeholder(r, protectedKey, `the RADIUS secret of ${ip}`);
      r.take(secretKey);
    } else secret = r.take(secretKey);
    if (secret === undefined || secret === '') {
      r.note('unsupported', key, `no ${secretKey}: client ${ip} not carried over`);
      continue;
    }
    const cidrs = toCidrs(ip);
    if (!cidrs) {
      r.note('unsupported', key, `${ip} is not an address, CIDR, address/netmask or IPv4 range`);
      continue;
    }
    cidrs.forEach((cidr, i) => {
      const name = `${r.name}.${key}`;
      clients.push({ name: cidrs.length > 1 ? `${name}-${i + 1}` : name, ip: cidr, secret });
    });
  }
  for (const { n, key } of [...r.numbered('radius_secret_'), ...r.numbered('radius_secret_protected_')]) {
    if (!r.has(`radius_ip_${n}`)) {
      r.take(key);
      r.note('unsupported', key, `no radius_ip_${n} for this secret`);
    }
  }
  if (clients.length === 0) r.note('manual', 'radius_ip_1', 'no usable RADIUS client: add [[server.client]] entries');
  return clients;
}
