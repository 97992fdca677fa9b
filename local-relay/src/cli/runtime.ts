import { mkdir } from 'node:fs/promises';
import { err, ok, type Result } from '@duo-edge/contract/result';
import type { Logger } from 'pino';
import { edgeTransportOf } from '../config/edge-proxy.ts';
import { ConfigError } from '../config/errors.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { RelayConfig } from '../config/schema.ts';
import { sitesOf } from '../config/section-site.ts';
import { flowOptionsOf, listenAddresses } from '../config/server-sections.ts';
import type { CircuitBreaker } from '../edge/breaker.ts';
import type { EdgeClient, EdgeClientOptions } from '../edge/client.ts';
import { loadEdgePublicKeys, loadIdentity } from '../edge/identity.ts';
import { failmodeReason, type SitePolicyStore } from '../edge/site-policy.ts';
import { ChallengeStore, createFlow, type DecisionHook, type FlowDecision, type FlowDeps } from '../flow/index.ts';
import type { LdapServers } from '../ldap/listener.ts';
import { authEventFields } from '../ops/auth-event.ts';
import { createRelayMetrics, type RelayMetrics } from '../ops/metrics.ts';
import { startAuthEventSyslog } from '../ops/syslog/index.ts';
import { PrimaryAdmission, type PrimaryLimits } from '../primary/admission.ts';
import { createPrimary, type Primary } from '../primary/index.ts';
import type { JournalSync } from '../runtime/journal-sync.ts';
import { startManagement } from '../runtime/management.ts';
import { type SiteUnit, startSiteUnit, type Trust } from '../runtime/site-unit.ts';
import { RELAY_WIDE_COUNTERS } from '../server/counters.ts';
import { type BoundAddress, createRadiusServer, type ListenerSpec, type RadiusServer } from '../server/index.ts';

/**
 * Wires one running relay: config → primary → flows → edge client → RADIUS server, plus the ops
 * around them (auth-event log, metrics and the management port, offline journal, heartbeat). Used
 * by `duo-relay start` and by tests that want the real thing in-process.
 */
export interface RelayRuntime {
  addresses: BoundAddress[];
  /** The `[[ldap_server]]` listeners (actual ports). */
  ldapAddresses: LdapServers['addresses'];
  server: RadiusServer;
  edge: EdgeClient;
  breaker: CircuitBreaker;
  policy: SitePolicyStore;
  /** Every site served (`[relay] site` first); `edge`, `breaker`, `policy`, `journal` are the first's. */
  sites: ReadonlyMap<string, SiteUnit>;
  metrics: RelayMetrics;
  /** Base URL of the management port (`/metrics`, `/healthz`, `/readyz`); undefined when disabled. */
  managementUrl: string | undefined;
  journal: JournalSync;
  /** One heartbeat now (tests, and right after start); true when the edge took it. */
  heartbeat(): Promise<boolean>;
  /** Re-reads the config file; on any error keeps the running config and says why. */
  reload(): Promise<Result<void, string>>;
  stop(graceMs?: number): Promise<void>;
}

export interface RuntimeOptions {
  logger: Logger;
  /** Extra decision hook (tests); the auth-event log, metrics and journal are wired in already. */
  onDecision?: DecisionHook;
  /** The way to the edge (tests substitute a fake); the runtime closes it on stop. */
  transport?: EdgeClientOptions['transport'];
  onEdgeCall?: EdgeClientOptions['onCall'];
  /** Re-reads and validates the config (reload); defaults to the file the relay started with. */
  loadConfig?: () => Promise<LoadedConfig>;
}

export async function startRelay(loaded: LoadedConfig, opts: RuntimeOptions): Promise<RelayRuntime> {
  const { config, file } = loaded;
  const log = opts.logger;
  for (const w of loaded.warnings) log.warn(w);

  let trust = await loadTrust(config, file);
  try {
    await mkdir(config.relay.state_dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ConfigError(file, [
      { path: 'relay.state_dir', message: `cannot create: ${(error as NodeJS.ErrnoException).code ?? error}` },
    ]);
  }

  const admission = new PrimaryAdmission(primaryLimitsOf(config));
  let current = config;

  // The parts are built in dependency order; what start has opened so far is closed in reverse
  // when a later step fails.
  const opened: Array<() => Promise<unknown>> = [];
  const orClose = async <T>(step: () => Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (error) {
      for (const close of opened.reverse()) await close().catch(() => {});
      throw error;
    }
  };
  // Every edge call, of every site, goes through the one transport (direct, or the outbound proxy).
  const transport = opts.transport ?? edgeTransportOf(config.edge);
  opened.push(() => transport.close());
  /** One unit per site the sections name, `[relay] site` first: its own policy, breaker, journal. */
  const units = new Map<string, SiteUnit>();
  for (const site of sitesOf(config)) {
    const unit = await orClose(() =>
      startSiteUnit({
        site,
        config,
        trust,
        logger: log,
        transport,
        // Metrics are built further down: an edge call starts only once everything is (unit.start).
        onCall: (stage, outcome, seconds) => {
          metrics.observeEdgeRequest(stage, outcome, seconds);
          opts.onEdgeCall?.(stage, outcome, seconds);
        },
        onRefusal: (stage, label) => metrics.observeEdgeRefusal(stage, label),
      }),
    );
    units.set(site, unit);
    opened.push(() => unit.close());
  }
  const main = units.get(config.relay.site)!;
  const unitOf = (site: string | undefined) => units.get(site ?? current.relay.site) ?? main;

  const syslog = startAuthEventSyslog(config.log, file, log);
  if (syslog) opened.push(() => syslog.close());

  const challenges = new ChallengeStore();
  /** One auth_event line, metrics and (when the edge never saw it) the journal, per decision.
   * The NAS reply waits for the journal append: its write() with `[journal] sync = "batch"`,
   * also its group-committed fsync with `"before_reply"`. */
  const decisionHook =
    (serverSection: string, unit: SiteUnit): DecisionHook =>
    (d: FlowDecision, req) => {
      const event = authEventFields({ ...d, serverSection });
      log.info(event);
      syslog?.send(event);
      metrics.observeDecision(d);
      unit.countDecision(d);
      const extra = opts.onDecision?.(d, req);
      const journalled = unit.journal.record(d);
      return extra instanceof Promise || journalled ? Promise.all([extra, journalled]) : undefined;
    };
  const depsFor = (p: Primary, serverSection: string, site: string | undefined): FlowDeps => ({
    primary: p,
    admission,
    edge: unitOf(site).edge,
    policy: unitOf(site).view,
    challenges,
    logger: log.child({ component: 'flow' }),
    onDecision: decisionHook(serverSection, unitOf(site)),
  });

  let bound = false;
  /** Swapped by reload; logins already under way keep the one they started with. */
  let primary = await orClose(() => createPrimary(config.primary, { logger: log }));
  const firstPrimary = primary;
  opened.push(async () => firstPrimary.close?.());
  const radius = createRadiusServer({
    listeners: listenersOf(config, (s, site) => depsFor(primary, s, site)),
    logger: log,
  });
  opened.push(() => radius.stop(0));
  // The LDAP proxy's upstream is the [primary] directory; its settings apply from start. Its code
  // is loaded only when an [[ldap_server]] is configured.
  const directory = config.primary?.type === 'ldap' ? config.primary.ldap : undefined;
  const ldap =
    config.ldap_server.length > 0 && directory
      ? await orClose(async () =>
          (await import('../ldap/listener.ts')).startLdapServers(config.ldap_server, directory, {
            flowDeps: (s, site) => depsFor(primary, s, site),
            logger: log,
          }),
        )
      : undefined;
  if (ldap) opened.push(() => ldap.stop());
  const metrics = createRelayMetrics({
    serverCounters: () => radius.counters(),
    inFlight: () => radius.inFlight(),
    primaryRefused: () => admission.refusedByClient(),
    sites: () =>
      [...units.values()].map((u) => ({
        site: u.site,
        ...policyState(u.policy.current()),
        breakerState: u.breaker.state,
        journalDepth: u.journal.journal.depth(),
        journalDropped: u.journal.journal.dropped(),
      })),
    ldapCounters: () => ldap?.counters() ?? {},
    syslogDropped: () => syslog?.dropped() ?? 0,
  });
  // Up before the RADIUS sockets bind, so /readyz says why it is not ready yet.
  const management = await orClose(() =>
    startManagement(config, file, metrics, () =>
      bound ? { ready: true } : { ready: false, reason: 'udp sockets not bound' },
    ),
  );
  if (management) opened.push(() => management.close());
  const addresses = await orClose(() => radius.start());
  bound = true;
  for (const unit of units.values()) {
    // What belongs to no site (packets before a client is known, internal errors): the [relay] site reports it.
    const relayWide = unit === main ? () => pick(radius.counters(), RELAY_WIDE_COUNTERS) : () => ({});
    unit.start(() => ({ ...radius.siteCounters(unit.site), ...relayWide() }));
  }
  for (const unit of [...units.values()].slice(1)) {
    const held = unit.policy.current();
    log.info({ site: unit.site, failmode: held.failmode, failmodeFrom: failmodeReason(held) }, 'also serving site');
  }
  const inForce = main.policy.current();
  log.info(
    {
      site: config.relay.site,
      publicKey: trust.identity.publicKey,
      addresses,
      management: management?.url,
      failmode: inForce.failmode,
      failmodeFrom: failmodeReason(inForce),
    },
    `duo-relay started; failmode ${inForce.failmode}: ${failmodeReason(inForce)}`,
  );

  return {
    addresses,
    ldapAddresses: ldap?.addresses ?? [],
    server: radius,
    edge: main.edge,
    breaker: main.breaker,
    policy: main.policy,
    sites: units,
    metrics,
    managementUrl: management?.url,
    journal: main.journal,
    heartbeat: () => main.heartbeat(),

    async reload() {
      const prepared = await prepareReload(opts.loadConfig, [...units.keys()], log);
      if (!prepared.ok) {
        log.error({ error: prepared.error }, 'reload failed; keeping the running configuration');
        return prepared;
      }
      const { config: next, trust: nextTrust, primary: nextPrimary } = prepared.value;
      for (const key of restartOnly(current, next)) log.warn({ key }, 'changed setting needs a restart to apply');
      const old = primary;
      primary = nextPrimary;
      current = next;
      admission.setLimits(primaryLimitsOf(next));
      trust = nextTrust;
      for (const unit of units.values()) unit.reconfigure(next, trust);
      transport.retain(next.edge.urls);
      radius.reload(listenersOf(next, (s, site) => depsFor(nextPrimary, s, site)));
      // Logins already past the swap still hold the old primary: close it once they had time to end.
      if (old.close) setTimeout(() => void old.close?.(), next.relay.shutdown_grace_ms).unref();
      log.info(
        { publicKey: trust.identity.publicKey, edgeKeys: next.edge.public_keys.length, urls: next.edge.urls },
        'configuration reloaded',
      );
      return ok(undefined);
    },

    async stop(graceMs = current.relay.shutdown_grace_ms) {
      bound = false;
      for (const unit of units.values()) unit.stopTimers();
      // In-flight logins finish (and their journal writes settle) before the journal closes.
      await Promise.all([radius.stop(graceMs), ldap?.stop()]);
      await Promise.all([...units.values()].map((u) => u.close()));
      await primary.close?.();
      await management?.close();
      await syslog?.close();
      await transport.close();
      log.info('duo-relay stopped');
    },
  };
}

const primaryLimitsOf = (c: RelayConfig): PrimaryLimits => ({
  overall: c.relay.max_primary_checks,
  perClient: c.relay.max_primary_checks_per_client,
});

/** `radius_server_<mode>` (Duo's section names), numbered when a mode has several sections. */
function sectionNames(config: RelayConfig): string[] {
  const total = new Map<string, number>();
  for (const s of config.server) total.set(s.mode, (total.get(s.mode) ?? 0) + 1);
  const seen = new Map<string, number>();
  return config.server.map((s) => {
    const n = (seen.get(s.mode) ?? 0) + 1;
    seen.set(s.mode, n);
    return total.get(s.mode)! > 1 ? `radius_server_${s.mode}${n}` : `radius_server_${s.mode}`;
  });
}

function listenersOf(
  config: RelayConfig,
  depsFor: (serverSection: string, site: string | undefined) => FlowDeps,
): ListenerSpec[] {
  const byAddress = new Map<string, ListenerSpec>();
  const names = sectionNames(config);
  config.server.forEach((section, i) => {
    const flow = createFlow(flowOptionsOf(section), depsFor(names[i]!, section.site));
    for (const { host, port } of listenAddresses(section)) {
      const key = `${host}|${port}`;
      let listener = byAddress.get(key);
      if (!listener) {
        listener = { host, port, clients: [] };
        byAddress.set(key, listener);
      }
      for (const c of section.client) {
        listener.clients.push({
          name: c.name,
          cidr: c.ip,
          secret: new TextEncoder().encode(c.secret),
          requireMessageAuthenticator: c.require_message_authenticator,
          limitProxyState: c.limit_proxy_state,
          rejectDelayMs: section.reject_delay_ms,
          site: section.site ?? config.relay.site,
          flow,
        });
      }
    }
  });
  return [...byAddress.values()];
}

/**
 * Everything a reload can fail on, read before anything is swapped: a bad reload changes nothing.
 * The error names the file and key, as at start.
 */
async function prepareReload(
  loadConfig: RuntimeOptions['loadConfig'],
  sitesServed: ReadonlyArray<string>,
  log: Logger,
): Promise<Result<{ config: RelayConfig; trust: Trust; primary: Primary }, string>> {
  try {
    if (!loadConfig) return err('no config loader');
    const reloaded = await loadConfig();
    for (const w of reloaded.warnings) log.warn(w);
    const trust = await loadTrust(reloaded.config, reloaded.file);
    // A unit holds state (journal, breaker) for its site: adding or dropping one needs a restart.
    const sites = sitesOf(reloaded.config);
    if (sites.join() !== sitesServed.join())
      return err(`the sites served changed (${sites.join(', ')}): restart to apply`);
    return ok({
      config: reloaded.config,
      trust,
      primary: await createPrimary(reloaded.config.primary, { logger: log }),
    });
  } catch (error) {
    return err(error instanceof Error ? error.message : String(error));
  }
}

/** The relay's key and the pinned edge keys, read and checked; a problem names file and key. */
async function loadTrust(config: RelayConfig, file: string): Promise<Trust> {
  const identity = await loadIdentity(config.relay.site, config.relay.key_file);
  if (!identity.ok) throw new ConfigError(file, [{ path: 'relay.key_file', message: identity.error }]);
  const edgeKeys = await loadEdgePublicKeys(config.edge.public_keys);
  if (!edgeKeys.ok) throw new ConfigError(file, [{ path: 'edge.public_keys', message: edgeKeys.error }]);
  return { identity: identity.value, edgeKeys: edgeKeys.value };
}

/** The failmode in force and how old its signed policy is, for the metrics. */
function policyState({ failmode, policy }: ReturnType<SitePolicyStore['current']>) {
  return {
    failmode,
    ...(policy ? { policyAgeSeconds: Math.max(0, Math.floor(Date.now() / 1000) - policy.edge_time) } : {}),
  };
}

const pick = (all: Record<string, number>, names: readonly string[]) =>
  Object.fromEntries(names.map((n) => [n, all[n] ?? 0]));

/**
 * Settings bound at start (sockets, site, state); reload logs them instead of applying. The edge
 * URLs, pinned edge keys, stage timeouts and `relay.key_file` do apply: key rotation needs them.
 */
function restartOnly(a: RelayConfig, b: RelayConfig): string[] {
  const out: string[] = [];
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  if (!same(a.relay.site, b.relay.site)) out.push('relay.site');
  if (!same(a.relay.state_dir, b.relay.state_dir)) out.push('relay.state_dir');
  if (!same(a.relay.failmode, b.relay.failmode)) out.push('relay.failmode');
  const bound = ({ urls, public_keys, preauth_timeout_ms, auth_timeout_ms, ...rest }: RelayConfig['edge']) => rest;
  for (const [k, v] of Object.entries(bound(a.edge))) {
    if (!same(v, (bound(b.edge) as Record<string, unknown>)[k])) out.push(`edge.${k}`);
  }
  if (!same(a.log, b.log)) out.push('log');
  if (!same(a.management, b.management)) out.push('management');
  if (!same(a.journal, b.journal)) out.push('journal');
  const listens = (c: RelayConfig) => c.server.flatMap((s) => s.listen).sort();
  if (!same(listens(a), listens(b))) out.push('server[].listen');
  if (!same(a.ldap_server, b.ldap_server)) out.push('ldap_server');
  return out;
}
