import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Key } from '@duo-edge/contract/ed25519';
import type { SitePolicy } from '@duo-edge/contract/wire';
import type { Logger } from 'pino';
import { edgeFetchOf } from '../config/edge-proxy.ts';
import { ConfigError } from '../config/errors.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { RelayConfig } from '../config/schema.ts';
import { flowOptionsOf, listenAddresses } from '../config/server-sections.ts';
import { CircuitBreaker } from '../edge/breaker.ts';
import { createEdgeClient, type EdgeClient, type EdgeClientOptions } from '../edge/client.ts';
import { startHealthProbe } from '../edge/health-probe.ts';
import { loadEdgePublicKeys, loadIdentity } from '../edge/identity.ts';
import type { RelayIdentity } from '../edge/signing.ts';
import { createSitePolicyStore, failmodeReason, type SitePolicyStore } from '../edge/site-policy.ts';
import { correctionText, stageTimeouts } from '../edge/stage-timeouts.ts';
import { ChallengeStore, createFlow, type DecisionHook, type FlowDecision, type FlowDeps } from '../flow/index.ts';
import { type LdapServers, startLdapServers } from '../ldap/listener.ts';
import { authEventFields } from '../ops/auth-event.ts';
import type { ManagementServer } from '../ops/management-server.ts';
import { createRelayMetrics, type RelayMetrics } from '../ops/metrics.ts';
import { PrimaryAdmission, type PrimaryLimits } from '../primary/admission.ts';
import { createPrimary, type Primary } from '../primary/index.ts';
import { startHeartbeat } from '../runtime/heartbeat.ts';
import { type JournalSync, startJournalSync } from '../runtime/journal-sync.ts';
import { startManagement } from '../runtime/management.ts';
import { policyView } from '../runtime/policy-view.ts';
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
  metrics: RelayMetrics;
  /** Base URL of the management port (`/metrics`, `/healthz`, `/readyz`); undefined when disabled. */
  managementUrl: string | undefined;
  journal: JournalSync;
  /** One heartbeat now (tests, and right after start); true when the edge took it. */
  heartbeat(): Promise<boolean>;
  /** Re-reads the config file; on any error keeps the running config and says why. */
  reload(): Promise<{ ok: true } | { ok: false; error: string }>;
  stop(graceMs?: number): Promise<void>;
}

export interface RuntimeOptions {
  logger: Logger;
  /** Extra decision hook (tests); the auth-event log, metrics and journal are wired in already. */
  onDecision?: DecisionHook;
  fetch?: EdgeClientOptions['fetch'];
  onEdgeCall?: EdgeClientOptions['onCall'];
  /** Re-reads and validates the config (reload); defaults to the file the relay started with. */
  loadConfig?: () => Promise<LoadedConfig>;
}

export const POLICY_FILE = 'site-policy.json';
const MAX_REFUSAL_CODES = 16;

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

  let onEdgeBack = () => {};
  const breaker = new CircuitBreaker({
    threshold: config.edge.breaker_threshold,
    onChange: (state) => {
      if (state === 'open') log.warn('edge unreachable: circuit breaker open, local failmode applies');
      else {
        log.info('circuit breaker closed');
        onEdgeBack();
      }
    },
  });
  let metrics: RelayMetrics | undefined;
  let current = config;
  /** Refusals by the edge's error code, for the heartbeat (metrics count them on their own). */
  const refusals = new Map<string, number>();
  const edge = createEdgeClient({
    ...connectionOf(config, trust, undefined),
    breaker,
    logger: log,
    fetch: opts.fetch ?? edgeFetchOf(config.edge),
    onCall: (stage, outcome, seconds) => {
      metrics?.observeEdgeRequest(stage, outcome, seconds);
      opts.onEdgeCall?.(stage, outcome, seconds);
    },
    onRefusal: (stage, code) => {
      // The code is unsigned text: a bounded set of labels, whatever a path in between sends.
      const label = refusals.has(code) || refusals.size < MAX_REFUSAL_CODES ? code : 'other';
      metrics?.observeEdgeRefusal(stage, label);
      refusals.set(label, (refusals.get(label) ?? 0) + 1);
    },
  });
  /** URLs, keys and stage timeouts from the running config and the latest site policy, at once. */
  const applyConnection = () => {
    const next = connectionOf(current, trust, policy.current().policy);
    for (const t of Object.values(next.timeouts)) {
      if (t.corrected) log.warn({ key: t.key, configured: t.configuredMs, using: t.effectiveMs }, correctionText(t));
    }
    edge.configure(next);
  };
  const policy = createSitePolicyStore({
    site: config.relay.site,
    file: join(config.relay.state_dir, POLICY_FILE),
    configFailmode: config.relay.failmode,
    client: edge,
    refreshMs: config.edge.site_refresh_ms,
    logger: log,
    onChange: applyConnection,
  });
  await policy.load();
  applyConnection();

  const journal = await startJournalSync({
    stateDir: config.relay.state_dir,
    maxBytes: config.journal.max_bytes,
    intervalMs: config.journal.upload_interval_ms,
    sync: config.journal.sync,
    edge,
    logger: log,
  });
  onEdgeBack = () => void journal.upload();

  let primary: Primary | undefined;
  let server: RadiusServer | undefined;
  let management: ManagementServer | undefined;
  let ldap: LdapServers | undefined;
  let bound = false;
  const decisionCounts = { decisions_allow: 0, decisions_deny: 0, decisions_challenge: 0 };
  const admission = new PrimaryAdmission(primaryLimitsOf(config));
  try {
    primary = await createPrimary(config.primary, { logger: log });
    metrics = createRelayMetrics({
      serverCounters: () => server?.counters() ?? {},
      inFlight: () => server?.inFlight() ?? 0,
      primaryRefused: () => admission.refusedByClient(),
      breakerState: () => breaker.state,
      journalDepth: () => journal.journal.depth(),
      journalDropped: () => journal.journal.dropped(),
      ldapCounters: () => ldap?.counters() ?? {},
    });
    management = await startManagement(config, file, metrics, () =>
      bound ? { ready: true } : { ready: false, reason: 'udp sockets not bound' },
    );
  } catch (error) {
    await primary?.close?.();
    await journal.close();
    throw error;
  }
  const relayMetrics = metrics;

  const challenges = new ChallengeStore();
  const view = policyView(policy);
  /** One auth_event line, metrics and (when the edge never saw it) the journal, per decision.
   * The NAS reply waits for the journal append: its write() with `[journal] sync = "batch"`,
   * also its group-committed fsync with `"before_reply"`. */
  const decisionHook =
    (serverSection: string): DecisionHook =>
    (d: FlowDecision) => {
      log.info(authEventFields({ ...d, serverSection }));
      relayMetrics.observeDecision(d);
      decisionCounts[`decisions_${d.result}`]++;
      const extra = opts.onDecision?.(d);
      const journalled = journal.record(d);
      return extra instanceof Promise || journalled ? Promise.all([extra, journalled]) : undefined;
    };
  const depsFor = (p: Primary, serverSection: string): FlowDeps => ({
    primary: p,
    admission,
    edge,
    policy: view,
    challenges,
    logger: log.child({ component: 'flow' }),
    onDecision: decisionHook(serverSection),
  });

  const radius = createRadiusServer({ listeners: listenersOf(config, (s) => depsFor(primary!, s)), logger: log });
  server = radius;
  let addresses: BoundAddress[];
  try {
    addresses = await radius.start();
    if (config.ldap_server.length > 0 && config.primary?.type === 'ldap') {
      // The LDAP proxy's upstream is the [primary] directory; its settings apply from start.
      ldap = await startLdapServers(config.ldap_server, config.primary.ldap, {
        flowDeps: (s) => depsFor(primary!, s),
        logger: log,
      });
    }
  } catch (error) {
    await radius.stop(0).catch(() => {});
    await management?.close();
    await primary.close?.();
    await journal.close();
    throw error;
  }
  bound = true;
  const probe = startHealthProbe({ breaker, client: edge, intervalMs: config.edge.probe_interval_ms, logger: log });
  const heartbeat = startHeartbeat({
    edge,
    intervalMs: config.edge.heartbeat_interval_ms,
    breakerState: () => breaker.state,
    counters: () => ({
      ...radius.counters(),
      ...decisionCounts,
      journal_depth: journal.journal.depth(),
      journal_dropped: journal.journal.dropped(),
      ...Object.fromEntries([...refusals].map(([code, n]) => [`edge_refused_${code}`, n])),
    }),
    logger: log,
  });
  policy.start();
  // The policy first (it says whether this key is still welcome), then what waited for the edge.
  void policy.refresh().then(() => {
    journal.start();
    void heartbeat.beat();
  });
  const inForce = policy.current();
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
    edge,
    breaker,
    policy,
    metrics: relayMetrics,
    managementUrl: management?.url,
    journal,
    heartbeat: () => heartbeat.beat(),

    async reload() {
      let next: RelayConfig;
      let nextTrust: Trust;
      let nextPrimary: Primary;
      try {
        const reloaded = await (opts.loadConfig ?? (() => Promise.reject(new Error('no config loader'))))();
        next = reloaded.config;
        for (const w of reloaded.warnings) log.warn(w);
        // Everything that can fail is read before anything is swapped: a bad reload changes nothing.
        nextTrust = await loadTrust(next, reloaded.file);
        nextPrimary = await createPrimary(next.primary, { logger: log });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log.error({ error: message }, 'reload failed; keeping the running configuration');
        return { ok: false, error: message };
      }
      for (const key of restartOnly(current, next)) log.warn({ key }, 'changed setting needs a restart to apply');
      const old = primary!;
      primary = nextPrimary;
      current = next;
      admission.setLimits(primaryLimitsOf(next));
      trust = nextTrust;
      applyConnection();
      radius.reload(listenersOf(next, (s) => depsFor(nextPrimary, s)));
      // Logins already past the swap still hold the old primary: close it once they had time to end.
      if (old.close) setTimeout(() => void old.close?.(), next.relay.shutdown_grace_ms).unref();
      log.info(
        { publicKey: trust.identity.publicKey, edgeKeys: next.edge.public_keys.length, urls: next.edge.urls },
        'configuration reloaded',
      );
      return { ok: true };
    },

    async stop(graceMs = current.relay.shutdown_grace_ms) {
      bound = false;
      heartbeat.stop();
      probe.stop();
      policy.stop();
      // In-flight logins finish (and their journal writes settle) before the journal closes.
      await Promise.all([radius.stop(graceMs), ldap?.stop()]);
      await journal.close();
      await primary!.close?.();
      await management?.close();
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

function listenersOf(config: RelayConfig, depsFor: (serverSection: string) => FlowDeps): ListenerSpec[] {
  const byAddress = new Map<string, ListenerSpec>();
  const names = sectionNames(config);
  config.server.forEach((section, i) => {
    const flow = createFlow(flowOptionsOf(section), depsFor(names[i]!));
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
          flow,
        });
      }
    }
  });
  return [...byAddress.values()];
}

/** The relay's key and the pinned edge keys, read and checked; a problem names file and key. */
interface Trust {
  identity: RelayIdentity;
  edgeKeys: Key[];
}

async function loadTrust(config: RelayConfig, file: string): Promise<Trust> {
  const identity = await loadIdentity(config.relay.site, config.relay.key_file);
  if ('error' in identity) throw new ConfigError(file, [{ path: 'relay.key_file', message: identity.error }]);
  const edgeKeys = await loadEdgePublicKeys(config.edge.public_keys);
  if ('error' in edgeKeys) throw new ConfigError(file, [{ path: 'edge.public_keys', message: edgeKeys.error }]);
  return { identity, edgeKeys };
}

function connectionOf(config: RelayConfig, trust: Trust, policy: SitePolicy | undefined) {
  const timeouts = stageTimeouts(config.edge, policy);
  return {
    urls: config.edge.urls,
    identity: trust.identity,
    edgePublicKeys: trust.edgeKeys,
    preauthTimeoutMs: timeouts.preauth.effectiveMs,
    authTimeoutMs: timeouts.auth.effectiveMs,
    timeouts,
  };
}

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
