import { createSocket } from 'node:dgram';
import { BlockList, isIP } from 'node:net';
import { join } from 'node:path';
import type { Key } from '@duo-edge/contract/ed25519';
import type { SitePolicy } from '@duo-edge/contract/wire';
import pino from 'pino';
import { parseListen } from '../config/addresses.ts';
import { edgeTransportOf, proxyHop } from '../config/edge-proxy.ts';
import { ConfigError } from '../config/errors.ts';
import { type LoadedConfig, loadConfig } from '../config/load.ts';
import type { RelayConfig } from '../config/schema.ts';
import { sitesOf } from '../config/section-site.ts';
import { CircuitBreaker } from '../edge/breaker.ts';
import { createEdgeClient, describe, refusalHint } from '../edge/client.ts';
import type { EdgeResponse, EdgeTransport } from '../edge/http/exchange.ts';
import { loadEdgePublicKeys, loadIdentity } from '../edge/identity.ts';
import { loadPolicy } from '../edge/policy-file.ts';
import type { RelayIdentity } from '../edge/signing.ts';
import { failmodeReason } from '../edge/site-policy.ts';
import { correctionText, EDGE_DEADLINE_MARGIN_MS, stageTimeouts } from '../edge/stage-timeouts.ts';
import { checkLdapListeners } from '../ldap/check.ts';
import { createPrimary } from '../primary/index.ts';
import { Code } from '../radius/index.ts';
import { POLICY_FILE, siteStateDir } from '../runtime/site-unit.ts';
import { createRadiusClient } from './radius-client.ts';

/**
 * `duo-relay check`: Duo's authproxy_connectivity_tool for this relay. One line per check,
 * `[ok]` or `[FAIL]` with the detail an admin needs to fix it; exit 1 when anything failed.
 * Nothing secret is printed: keys and secrets are named by file or config key, never shown.
 */

export interface CheckLine {
  ok: boolean;
  name: string;
  detail: string;
}

export interface CheckOptions {
  env?: Readonly<Record<string, string | undefined>>;
  now?: () => number;
  /** The way to the edge (tests substitute a fake); default the relay's own, closed when done. */
  transport?: EdgeTransport;
  /** Per network check. */
  timeoutMs?: number;
}

/** Duo's connectivity tool flags drift of a minute; the edge refuses signatures outside its window. */
const MAX_SKEW_S = 60;
const DEFAULT_TIMEOUT_MS = 5_000;

export async function runChecks(
  configFile: string,
  report: (line: CheckLine) => void,
  opts: CheckOptions = {},
): Promise<boolean> {
  let allOk = true;
  const emit = (ok: boolean, name: string, detail: string) => {
    allOk &&= ok;
    report({ ok, name, detail });
  };
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(configFile, opts.env ?? process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const p of error.problems) emit(false, 'config', `${error.file}: ${p.path ? `${p.path}: ` : ''}${p.message}`);
    return false;
  }
  const { config } = loaded;
  const clients = config.server.reduce((n, s) => n + s.client.length, 0);
  emit(
    true,
    'config',
    `${loaded.file} valid (${config.server.length} server section(s), ${clients} client(s), ${config.ldap_server.length} ldap_server section(s))`,
  );
  for (const w of loaded.warnings) emit(true, 'config', `warning: ${w}`);

  const identity = await loadIdentity(config.relay.site, config.relay.key_file);
  if (!identity.ok) emit(false, 'relay key', identity.error);
  else emit(true, 'relay key', `${config.relay.key_file} (public key ${identity.value.publicKey})`);
  const edgeKey = await loadEdgePublicKeys(config.edge.public_keys);
  if (!edgeKey.ok) emit(false, 'edge public key', edgeKey.error);

  // Every site the sections use has its own policy, failmode and registration of this key.
  const sites = sitesOf(config);
  for (const site of sites) {
    const saved = await loadPolicy(join(siteStateDir(config, site), POLICY_FILE), site);
    const offline = saved.ok
      ? { failmode: saved.value.failmode, from: 'disk' as const, policy: saved.value }
      : config.relay.failmode
        ? { failmode: config.relay.failmode, from: 'config' as const }
        : { failmode: 'secure' as const, from: 'default' as const };
    emit(
      true,
      `failmode for site ${site}`,
      `${offline.failmode} at start while the edge is unreachable: ${failmodeReason(offline)}`,
    );
  }
  const transport = opts.transport ?? edgeTransportOf(config.edge);
  try {
    for (const url of config.edge.urls) {
      await checkEdge(
        url,
        config,
        sites,
        identity.ok ? identity.value : undefined,
        edgeKey.ok ? edgeKey.value : undefined,
        { emit, timeoutMs, now: opts.now ?? Date.now, transport },
      );
    }
  } finally {
    if (!opts.transport) await transport.close();
  }
  for (const line of await checkListeners(config, timeoutMs)) emit(line.ok, line.name, line.detail);
  for (const line of await checkLdapListeners(config, timeoutMs)) emit(line.ok, line.name, line.detail);
  const primary = await checkPrimary(config, timeoutMs);
  if (primary) emit(primary.ok, primary.name, primary.detail);
  return allOk;
}

interface EdgeCheckDeps {
  emit: (ok: boolean, name: string, detail: string) => void;
  timeoutMs: number;
  now: () => number;
  transport: EdgeTransport;
}

async function checkEdge(
  url: string,
  config: RelayConfig,
  sites: ReadonlyArray<string>,
  identity: RelayIdentity | undefined,
  edgeKey: Key[] | undefined,
  d: EdgeCheckDeps,
): Promise<void> {
  const health = await getHealth(url, d);
  if (!health.ok) {
    d.emit(false, `edge ${url}`, `${health.detail} (${proxyHop(config.edge, url)})`);
    return;
  }
  d.emit(
    true,
    `edge ${url}`,
    `reachable ${proxyHop(config.edge, url)} (GET /v1/health: HTTP ${health.status}, version ${health.version ?? '?'})`,
  );

  const policies: SitePolicy[] = [];
  if (identity && edgeKey) {
    for (const site of sites) {
      const policy = await checkSite(url, config, { ...identity, site }, edgeKey, d);
      if (policy) policies.push(policy);
    }
  }

  // Without /v1/site the only clock is the HTTP Date header, which a dev server may leave out; the
  // key line already names the clock as a possible cause then.
  const edgeSeconds = policies[0]?.edge_time ?? health.dateSeconds;
  if (edgeSeconds !== undefined) {
    const skew = Math.floor(d.now() / 1000) - edgeSeconds;
    const text = `${skew >= 0 ? '+' : ''}${skew} s (${policies[0] ? 'edge_time of /v1/site' : 'HTTP Date'})`;
    if (Math.abs(skew) < MAX_SKEW_S) d.emit(true, `clock vs ${url}`, `skew ${text}`);
    else d.emit(false, `clock vs ${url}`, `skew ${text}: over ${MAX_SKEW_S} s, the edge refuses signatures; fix NTP`);
  }

  if (health.duoReachable === true) d.emit(true, `Duo via ${url}`, 'the edge reaches Duo (signed /auth/v2/check)');
  else if (health.duoReachable === false)
    d.emit(false, `Duo via ${url}`, 'the edge cannot reach Duo or Duo refuses its keys (see the edge log)');
  else d.emit(false, `Duo via ${url}`, 'the edge has not checked Duo yet (no integration configured?)');
}

/** Signed `GET /v1/site` as this site: is the key registered there, and what does its policy say. */
async function checkSite(
  url: string,
  config: RelayConfig,
  identity: RelayIdentity,
  edgeKey: Key[],
  d: EdgeCheckDeps,
): Promise<SitePolicy | undefined> {
  const { site } = identity;
  const client = createEdgeClient({
    urls: [url],
    identity,
    edgePublicKeys: edgeKey,
    preauthTimeoutMs: d.timeoutMs,
    authTimeoutMs: d.timeoutMs,
    breaker: new CircuitBreaker({ threshold: Number.MAX_SAFE_INTEGER }),
    logger: pino({ level: 'silent' }),
    transport: d.transport,
    now: d.now,
  });
  const name = `relay key at ${url} for site ${site}`;
  const r = await client.site();
  if (r.kind === 'ok') {
    d.emit(true, name, `accepted (failmode ${r.value.failmode})`);
    checkPairing(url, config, r.value, d);
    return r.value;
  }
  if (r.kind === 'http' && r.code && r.code.endsWith('_misconfigured'))
    d.emit(false, `edge ${url} for site ${site}`, refusalHint(r.status, r.code));
  else if (r.kind === 'http' && (r.status === 401 || r.status === 403)) {
    d.emit(
      false,
      name,
      `refused (HTTP ${r.status}): register public key ${identity.publicKey} for site "${site}" ` +
        'in the edge sites config; or the key was revoked, the site name is wrong, or the clock is off',
    );
  } else if (r.kind === 'unverified') {
    d.emit(
      false,
      name,
      `the answer is not signed by a key in edge.public_keys (${r.detail}: wrong key in relay.toml, ` +
        'or a middlebox rewrote it)',
    );
  } else d.emit(false, name, describe(r));
  return undefined;
}

/**
 * Which failmode holds while the edge cannot be reached, and whether the relay's stage timeouts
 * outlast the edge's deadlines (the relay raises a short one; the line tells the admin to fix it).
 */
function checkPairing(url: string, config: RelayConfig, site: SitePolicy, d: EdgeCheckDeps): void {
  d.emit(
    true,
    `failmode via ${url} for site ${site.site}`,
    `${site.failmode} when the edge is unreachable: ${failmodeReason({ failmode: site.failmode, from: 'edge', policy: site })}`,
  );
  for (const t of Object.values(stageTimeouts(config.edge, site))) {
    if (t.corrected) d.emit(true, `timeouts vs ${url} for site ${site.site}`, `warning: ${correctionText(t)}`);
    else
      d.emit(
        true,
        `timeouts vs ${url} for site ${site.site}`,
        `${t.key} = ${t.configuredMs} ms exceeds the edge's deadline ${t.edgeDeadlineMs} ms + ${EDGE_DEADLINE_MARGIN_MS} ms`,
      );
  }
}

type Health =
  | { ok: true; status: number; version?: string; duoReachable: boolean | null; dateSeconds?: number }
  | { ok: false; detail: string };

async function getHealth(url: string, d: EdgeCheckDeps): Promise<Health> {
  let res: EdgeResponse;
  try {
    res = await d.transport.request({
      url: new URL(`${url.replace(/\/+$/, '')}/v1/health`),
      method: 'GET',
      headers: {},
      signal: AbortSignal.timeout(d.timeoutMs),
      maxBytes: () => MAX_HEALTH_BYTES,
    });
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') return { ok: false, detail: `no answer within ${d.timeoutMs} ms` };
    return { ok: false, detail: `unreachable: ${(error as { code?: string }).code ?? (error as Error).message}` };
  }
  if (res.status < 200 || res.status > 299) return { ok: false, detail: `GET /v1/health answered HTTP ${res.status}` };
  const parsed = jsonOf(res.body) as { version?: unknown; duo?: { reachable?: unknown } } | undefined;
  const date = Date.parse(res.header('date') ?? '');
  return {
    ok: true,
    status: res.status,
    ...(typeof parsed?.version === 'string' ? { version: parsed.version } : {}),
    duoReachable: typeof parsed?.duo?.reachable === 'boolean' ? parsed.duo.reachable : null,
    ...(Number.isNaN(date) ? {} : { dateSeconds: Math.floor(date / 1000) }),
  };
}

const MAX_HEALTH_BYTES = 64 * 1024;

function jsonOf(body: Uint8Array | 'too_large'): unknown {
  if (body === 'too_large') return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
}

/**
 * Each UDP listen address must be bindable. When it is taken, a Status-Server tells a running relay
 * (checking itself while it serves) from another program holding the port.
 */
async function checkListeners(config: RelayConfig, timeoutMs: number): Promise<CheckLine[]> {
  const seen = new Set<string>();
  const out: CheckLine[] = [];
  for (const section of config.server) {
    for (const listen of section.listen) {
      if (seen.has(listen)) continue;
      seen.add(listen);
      const at = parseListen(listen)!;
      const name = `udp ${listen}`;
      const bound = await tryBind(at.host, at.port);
      if (bound === 'ok') out.push({ ok: true, name, detail: 'bindable' });
      else if (bound !== 'EADDRINUSE') out.push({ ok: false, name, detail: `cannot bind: ${bound}` });
      else {
        const answered = await statusServer(config, at, timeoutMs);
        out.push(
          answered
            ? { ok: true, name, detail: 'in use by a relay that answers Status-Server with this config (running?)' }
            : {
                ok: false,
                name,
                detail: 'address in use by another program (EADDRINUSE): stop it or change server.listen',
              },
        );
      }
    }
  }
  return out;
}

function tryBind(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.close();
      resolve(error.code ?? error.message);
    });
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve('ok')));
  });
}

async function statusServer(
  config: RelayConfig,
  at: { host: string; port: number },
  timeoutMs: number,
): Promise<boolean> {
  const family = isIP(at.host) === 6 ? 'ipv6' : 'ipv4';
  const host = at.host === '0.0.0.0' ? '127.0.0.1' : at.host === '::' ? '::1' : at.host;
  const listen = at.host.includes(':') ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
  // The probe comes from loopback (or the listen address): it needs a client entry covering it.
  const client = config.server
    .filter((s) => s.listen.includes(listen))
    .flatMap((s) => s.client)
    .find((c) => covers(c.ip, host, family));
  if (!client) return false;
  const radius = await createRadiusClient({ host, port: at.port }, client.secret).catch(() => undefined);
  if (!radius) return false;
  try {
    // A relay answers Status-Server at once; a long wait would only slow the report down.
    const r = await radius.statusServer(Math.min(timeoutMs, 2_000));
    return r.kind === 'reply' && r.packet.code === Code.AccessAccept;
  } finally {
    radius.close();
  }
}

function covers(cidr: string, ip: string, family: 'ipv4' | 'ipv6'): boolean {
  const [net = '', bits] = cidr.split('/');
  if ((isIP(net) === 6 ? 'ipv6' : 'ipv4') !== family) return false;
  const list = new BlockList();
  if (bits === undefined) list.addAddress(net, family);
  else list.addSubnet(net, Number(bits), family);
  return list.check(ip, family);
}

async function checkPrimary(config: RelayConfig, timeoutMs: number): Promise<CheckLine | undefined> {
  const name = `primary ${config.primary?.type ?? 'none'}`;
  if (!config.primary || config.primary.type === 'none') return undefined;
  try {
    const primary = await createPrimary(config.primary, { logger: pino({ level: 'silent' }) });
    try {
      if (!primary.check) return { ok: true, name, detail: 'nothing to check' };
      const r = await primary.check(AbortSignal.timeout(timeoutMs * 3));
      return { ok: r.ok, name, detail: r.detail };
    } finally {
      await primary.close?.();
    }
  } catch (error) {
    return { ok: false, name, detail: error instanceof Error ? error.message : String(error) };
  }
}
