import {
  type ConvertedClient,
  convertAdClient,
  convertDuoOnlyClient,
  convertRadiusClient,
  passThrough,
  type SecretSink,
} from './clients.ts';
import { parseIni, sectionType } from './ini.ts';
import { convertLdapServer } from './ldap-server.ts';
import { type ImportNote, SectionReader } from './section-reader.ts';
import { type ConvertedServer, convertServer, type ServerMode } from './servers.ts';

/**
 * Duo Authentication Proxy `authproxy.cfg` → the relay's relay.toml (as an object) and the site
 * entry for the edge's SITES_CONFIG. Pure: no file or network access. Every option ends up either
 * in the output or in `notes`, with the reason.
 */

export interface ImportOptions {
  /** The site name at the edge. Default `main`. */
  site?: string;
  edgeUrl?: string;
  edgePublicKey?: string;
  /** Default `relay.key` (made by `duo-relay keygen`). */
  keyFile?: string;
  relayPublicKey?: string;
}

export interface SiteFile {
  integrations: Record<string, { ikey: string; skey: string; api_host: string }>;
  sites: Record<string, Record<string, unknown>>;
}

export interface ImportResult {
  relay: Record<string, unknown>;
  site: SiteFile;
  notes: ImportNote[];
  /** Environment variables relay.toml now refers to for secrets that could not be read. */
  envPlaceholders: string[];
}

const SERVER_MODES: Record<string, ServerMode> = {
  radius_server_auto: 'auto',
  radius_server_challenge: 'challenge',
  radius_server_concat: 'concat',
  radius_server_duo_only: 'duo_only',
};

const UNSUPPORTED_SECTIONS: Record<string, string> = {
  radius_server_iframe: 'the iframe (traditional prompt) mode is not supported; use radius_server_challenge or auto',
  radius_server_eap: 'PEAP/EAP-GTC is not terminated by the relay; use auto or challenge mode with PAP',
  http_proxy: 'the relay does not proxy HTTP for other Duo clients',
  cloud: 'directory sync is not part of the relay (keep the Duo proxy for it)',
  sso: 'Duo SSO AD authentication is not part of the relay (keep the Duo proxy for it)',
};

/** Placeholders so the produced relay.toml is complete; each one is listed as `manual`. */
export const PLACEHOLDER_EDGE_URL = 'https://duo-edge.example.workers.dev';
export const PLACEHOLDER_EDGE_PUBLIC_KEY = 'A'.repeat(43);

export function convertAuthproxy(text: string, opts: ImportOptions = {}): ImportResult {
  const notes: ImportNote[] = [];
  const envPlaceholders: string[] = [];
  const ini = parseIni(text);
  for (const p of ini.problems) notes.push({ kind: 'unsupported', section: `line ${p.line}`, reason: p.message });

  const secrets: SecretSink = {
    placeholder(r, key, what) {
      const env = `DUO_RELAY_${`${r.name}_${key}`
        .replace(/_protected/g, '')
        .toUpperCase()
        .replace(/[^A-Z0-9]+/g, '_')}`;
      envPlaceholders.push(env);
      r.note(
        'manual',
        key,
        key.includes('protected')
          ? `${what} is protected with Windows DPAPI and cannot be read here: put it in $${env} (or a file reference)`
          : `${what} is missing: put it in $${env}`,
      );
      return { env };
    },
  };

  const readers = ini.sections.map((s) => new SectionReader(s, notes));
  const mainReader = readers.find((r) => r.name === 'main');
  const main = mainReader ? convertMain(mainReader) : { debug: false };

  const clients = new Map<string, ConvertedClient>();
  const servers: ConvertedServer[] = [];
  for (const r of readers) {
    const type = sectionType(r.name);
    if (r === mainReader) continue;
    if (type === 'ad_client') clients.set(r.name, convertAdClient(r, secrets));
    else if (type === 'radius_client') clients.set(r.name, convertRadiusClient(r, secrets));
    else if (type === 'duo_only_client') clients.set(r.name, convertDuoOnlyClient(r));
    else if (SERVER_MODES[type]) servers.push(convertServer(r, SERVER_MODES[type], main.interface, secrets));
    else if (type === 'ldap_server_auto') servers.push(convertLdapServer(r, main.interface));
    else if (UNSUPPORTED_SECTIONS[type]) r.rejectAll(UNSUPPORTED_SECTIONS[type]);
    else r.rejectAll('unknown section');
  }

  // Duo's binding: explicit client=, else [main] client=, else the only client section.
  const bindingOf = (s: ConvertedServer): string | undefined => {
    if (s.mode === 'duo_only') return undefined;
    return s.client ?? main.client ?? (clients.size === 1 ? [...clients.keys()][0] : undefined);
  };
  const primaryClient = pickPrimary(servers, clients, bindingOf, notes);
  const primary = primaryClient?.primary ? { ...primaryClient.primary } : undefined;

  const kept: ConvertedServer[] = [];
  for (const s of servers) {
    const binding = bindingOf(s);
    if (s.mode !== 'duo_only' && binding === undefined) {
      s.reader.note(
        'unsupported',
        'client',
        'no client section to use for primary authentication: section not carried over',
      );
      continue;
    }
    const bound = binding === undefined ? undefined : clients.get(binding);
    if (binding !== undefined && !bound) {
      s.reader.note('unsupported', 'client', `client section [${binding}] does not exist: section not carried over`);
      continue;
    }
    if (s.ldap && bound?.kind !== 'ldap') {
      s.reader.note(
        'unsupported',
        'client',
        'ldap_server_auto proxies to an ad_client directory: section not carried over',
      );
      continue;
    }
    if (bound?.kind === 'duo_only') {
      s.server.mode = 'duo_only';
      for (const key of [
        'factors',
        'allow_concat',
        'delimiter',
        'delimited_password_length',
        'prompt_format',
        'enroll_challenge',
      ]) {
        delete s.server[key];
      }
      if (s.failmode !== 'secure') s.server.duo_only_failopen_acknowledged = true;
      s.reader.note(
        'changed',
        'client',
        `[${binding}] ignored the password and sent the configured factor; the relay's duo_only mode takes the ` +
          'factor from the password field (push, phone, or a passcode)',
      );
    } else if (bound && bound !== primaryClient) {
      s.reader.note(
        'unsupported',
        'client',
        `the relay has one primary ([${primaryClient?.name}]); [${binding}] is not used`,
      );
      continue;
    }
    if (s.server.mode === 'duo_only' && s.server.exempt_usernames) {
      delete s.server.exempt_usernames;
      s.reader.note(
        'unsupported',
        'exempt_username_1',
        'with no primary an exempt user would need no credential at all: not carried over',
      );
    }
    if (s.reader.has('pass_through_attr_names') || s.reader.has('pass_through_all')) {
      if (primary?.type === 'radius') passThrough(s.reader, primary);
      else {
        s.reader.take('pass_through_attr_names');
        s.reader.take('pass_through_all');
        s.reader.note(
          'unsupported',
          'pass_through_attr_names',
          'pass-through needs a radius_client primary (Duo refuses it too)',
        );
      }
    }
    kept.push(s);
  }
  for (const r of readers) r.finish();

  const site = opts.site ?? 'main';
  const first = kept[0] ?? servers[0];
  // One site per Duo integration: the first ikey is `site`, each further one `site-2`, `site-3`...
  const groups = groupBySite(kept, site);
  for (const g of groups.slice(1)) for (const s of g.sections) s.server.site = g.site;
  const failmode = first?.failmode ?? 'safe';
  for (const g of groups) {
    const failmodes = new Set(g.sections.map((s) => s.failmode ?? 'safe'));
    if (failmodes.size > 1) {
      notes.push({
        kind: 'changed',
        section: 'failmode',
        reason: `sections of site "${g.site}" use different failmodes; a site has one: "${g.failmode}" (from [${g.sections[0]?.name}]) applies to all`,
      });
    }
  }
  const debug = main.debug || kept.some((s) => s.debug) || primaryClient?.debug === true;
  if (!opts.edgeUrl)
    notes.push({ kind: 'manual', section: 'edge', key: 'urls', reason: 'set edge.urls to your duo-edge worker URL' });
  if (!opts.edgePublicKey) {
    notes.push({
      kind: 'manual',
      section: 'edge',
      key: 'public_key',
      reason: "set edge.public_key to the edge's decision-signing public key",
    });
  }
  notes.push({
    kind: 'changed',
    section: 'server',
    reason:
      'every NAS must now send Message-Authenticator (BlastRADIUS); a client that cannot: require_message_authenticator = false on that client only',
  });

  const relay: Record<string, unknown> = {
    relay: { site, key_file: opts.keyFile ?? 'relay.key', failmode },
    edge: {
      urls: [opts.edgeUrl ?? PLACEHOLDER_EDGE_URL],
      public_key: opts.edgePublicKey ?? PLACEHOLDER_EDGE_PUBLIC_KEY,
      ...(main.proxy ? { proxy: main.proxy } : {}),
    },
    log: { level: debug ? 'debug' : 'info', ...(main.syslogFacility ? { syslog_facility: main.syslogFacility } : {}) },
    ...(primary ? { primary } : {}),
    server: kept.filter((s) => !s.ldap).map((s) => s.server),
    ...(kept.some((s) => s.ldap) ? { ldap_server: kept.filter((s) => s.ldap).map((s) => s.server) } : {}),
  };

  if (!opts.relayPublicKey) {
    notes.push({
      kind: 'manual',
      section: 'site',
      key: 'relay_keys',
      reason: 'add the public key printed by `duo-relay keygen`',
    });
  }
  const siteFile: SiteFile = { integrations: {}, sites: {} };
  for (const g of groups.length > 0 ? groups : [{ site, failmode, sections: first ? [first] : [] }]) {
    const integration = g.sections[0]?.integration ?? {};
    const exempt = [...new Set(g.sections.flatMap((s) => (s.server.exempt_usernames as string[] | undefined) ?? []))];
    const factors = g.sections.find((s) => s.factors)?.factors;
    siteFile.integrations[g.site] = {
      ikey: integration.ikey ?? '',
      skey: integration.skey ?? '',
      api_host: integration.api_host ?? '',
    };
    siteFile.sites[g.site] = {
      integration: g.site,
      failmode: g.failmode,
      // The same relay key on every site the relay serves.
      relay_keys: opts.relayPublicKey ? [{ key: opts.relayPublicKey, name: 'imported-relay' }] : [],
      ...(factors ? { factors } : {}),
      ...(exempt.length > 0 ? { exempt_usernames: exempt } : {}),
      ...(g.sections.some((s) => s.mode === 'duo_only') && g.failmode === 'safe'
        ? { options: { duo_only_failopen_acknowledged: true } }
        : {}),
    };
  }
  return { relay, site: siteFile, notes, envPlaceholders };
}

interface MainSettings {
  debug: boolean;
  /** authproxy's syslog_facility (`LOG_AUTH`), carried when log_syslog is on. */
  syslogFacility?: string;
  /** `[edge] proxy` from http_proxy_host / http_proxy_port (Duo's default port 80). */
  proxy?: string;
  interface?: string;
  client?: string;
}

function convertMain(r: SectionReader): MainSettings {
  const out: MainSettings = { debug: r.bool('debug') === true };
  const iface = r.take('interface');
  if (iface) out.interface = iface;
  const client = r.take('client');
  if (client) out.client = client;
  const logging = 'the relay logs JSON lines to stdout (collect them with journald, Docker or your log shipper)';
  const facility = r.take('syslog_facility');
  if (r.bool('log_syslog') === true) {
    out.syslogFacility = facility ?? 'LOG_USER';
    r.note(
      'manual',
      'log_syslog',
      'auth events go to the syslog receiver in [log] syslog ("udp://host:514", "tcp://…" or "tls://…"); set it to your SIEM or local syslog daemon',
    );
  } else if (facility !== undefined) r.note('unsupported', 'syslog_facility', 'log_syslog is off');
  for (const key of ['log_dir', 'log_file', 'log_stdout', 'log_max_size', 'log_max_files']) {
    if (r.take(key) !== undefined) r.note('unsupported', key, logging);
  }
  if (r.take('log_auth_events') !== undefined) {
    r.note(
      'changed',
      'log_auth_events',
      'the relay always logs one auth-event line per decision (and the edge keeps the audit log)',
    );
  }
  const proxyHost = r.take('http_proxy_host');
  const proxyPort = r.take('http_proxy_port');
  if (proxyHost) out.proxy = `http://${proxyHost.includes(':') ? `[${proxyHost}]` : proxyHost}:${proxyPort ?? 80}`;
  else if (proxyPort !== undefined) r.note('unsupported', 'http_proxy_port', 'no http_proxy_host: no proxy to use');
  const never: Record<string, string> = {
    log_sso_events: 'there is no SSO in the relay',
    http_ca_certs_file: "the relay trusts Node's CA store (add CAs with NODE_EXTRA_CA_CERTS)",
    test_connectivity_on_startup: 'run `duo-relay check --config relay.toml` instead',
    fips_mode: 'no FIPS mode',
  };
  for (const [key, why] of Object.entries(never)) if (r.take(key) !== undefined) r.note('unsupported', key, why);
  return out;
}

function pickPrimary(
  servers: ConvertedServer[],
  clients: Map<string, ConvertedClient>,
  bindingOf: (s: ConvertedServer) => string | undefined,
  notes: ImportNote[],
): ConvertedClient | undefined {
  const used = servers
    .map(bindingOf)
    .map((name) => (name === undefined ? undefined : clients.get(name)))
    .filter((c): c is ConvertedClient => c !== undefined && c.kind !== 'duo_only');
  const chosen = used[0];
  for (const c of clients.values()) {
    if (c.kind === 'duo_only' || c === chosen) continue;
    // Notes on how its options would behave are moot for a section that is dropped as a whole.
    for (let i = notes.length - 1; i >= 0; i--) {
      if (notes[i]!.section === c.name && notes[i]!.kind !== 'unknown') notes.splice(i, 1);
    }
    notes.push({
      kind: 'unsupported',
      section: c.name,
      reason: `${used.includes(c) ? `the relay has one primary ([${chosen?.name}])` : 'no server section uses it'}: this client section is not carried over (options: ${c.options.join(', ')})`,
    });
  }
  return chosen;
}

interface SiteGroup {
  site: string;
  failmode: 'safe' | 'secure';
  sections: ConvertedServer[];
}

/** Sections by Duo integration (ikey); a section without one joins the first site. */
function groupBySite(kept: ConvertedServer[], site: string): SiteGroup[] {
  const byIkey = new Map<string, SiteGroup>();
  const groups: SiteGroup[] = [];
  for (const s of kept) {
    const key = s.integration.ikey ?? kept[0]?.integration.ikey ?? '';
    let g = byIkey.get(key);
    if (!g) {
      g = {
        site: groups.length === 0 ? site : `${site}-${groups.length + 1}`,
        failmode: s.failmode ?? 'safe',
        sections: [],
      };
      byIkey.set(key, g);
      groups.push(g);
    }
    g.sections.push(s);
  }
  return groups;
}
