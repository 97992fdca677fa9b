import { join } from 'node:path';
import type { Key } from '@duo-edge/contract/ed25519';
import { FAILMODE_SOURCES, type SitePolicy } from '@duo-edge/contract/wire';
import type { Logger } from 'pino';
import type { RelayConfig } from '../config/schema.ts';
import { CircuitBreaker } from '../edge/breaker.ts';
import { createEdgeClient, type EdgeClient, type EdgeClientOptions } from '../edge/client.ts';
import { startHealthProbe } from '../edge/health-probe.ts';
import type { RelayIdentity } from '../edge/signing.ts';
import { createSitePolicyStore, type SitePolicyStore } from '../edge/site-policy.ts';
import { correctionText, stageTimeouts } from '../edge/stage-timeouts.ts';
import type { FlowDecision, FlowDeps } from '../flow/index.ts';
import { startHeartbeat } from './heartbeat.ts';
import { type JournalSync, startJournalSync } from './journal-sync.ts';
import { policyView } from './policy-view.ts';

/**
 * Everything the relay keeps per edge site: the signed calls (the relay key signing with this
 * site's id), its circuit breaker and health probe, its site policy (so its failmode), its offline
 * journal and its heartbeat. One relay serving several sites runs one unit each, so an outage or a
 * refusal seen for one site never decides for another.
 */
export interface SiteUnit {
  site: string;
  edge: EdgeClient;
  breaker: CircuitBreaker;
  policy: SitePolicyStore;
  view: FlowDeps['policy'];
  journal: JournalSync;
  /** A decision on a login of this site, counted for its heartbeat. */
  countDecision(d: Pick<FlowDecision, 'result' | 'source'>): void;
  /** Probe, policy refresh, heartbeat and journal uploads; `counters`: this site's packet counters. */
  start(counters: () => Record<string, number>): void;
  heartbeat(): Promise<boolean>;
  /** A reload: URLs, keys and timeouts from the new config. */
  reconfigure(config: RelayConfig, trust: Trust): void;
  stopTimers(): void;
  close(): Promise<void>;
}

/** The relay's key and the pinned edge keys. */
export interface Trust {
  identity: RelayIdentity;
  edgeKeys: Key[];
}

export const POLICY_FILE = 'site-policy.json';

/** Where a site keeps its policy and journal: `[relay] site` state_dir itself, another `state_dir/sites/<site>`. */
export const siteStateDir = (config: RelayConfig, site: string): string =>
  site === config.relay.site ? config.relay.state_dir : join(config.relay.state_dir, 'sites', site);
const MAX_REFUSAL_CODES = 16;

export interface SiteUnitOptions {
  site: string;
  config: RelayConfig;
  trust: Trust;
  logger: Logger;
  transport: EdgeClientOptions['transport'];
  onCall: NonNullable<EdgeClientOptions['onCall']>;
  onRefusal: (stage: Parameters<NonNullable<EdgeClientOptions['onRefusal']>>[0], code: string) => void;
}

export async function startSiteUnit(o: SiteUnitOptions): Promise<SiteUnit> {
  const log = o.logger.child({ site: o.site });
  let current = o.config;
  let trust = o.trust;
  let onEdgeBack = () => {};
  const breaker = new CircuitBreaker({
    threshold: current.edge.breaker_threshold,
    onChange: (state) => {
      if (state === 'open') log.warn('edge unreachable: circuit breaker open, local failmode applies');
      else {
        log.info('circuit breaker closed');
        onEdgeBack();
      }
    },
  });
  /** This site's decisions, for its heartbeat (metrics count them on their own). */
  const decisions = {
    decisions_allow: 0,
    decisions_deny: 0,
    decisions_challenge: 0,
    failmode_allows: 0,
    failmode_denies: 0,
  };
  /** Refusals by the edge's error code, for the heartbeat (metrics count them on their own). */
  const refusals = new Map<string, number>();
  const identityOf = (t: Trust): RelayIdentity => ({ ...t.identity, site: o.site });
  const edge = createEdgeClient({
    ...connectionOf(current, identityOf(trust), trust.edgeKeys, undefined),
    breaker,
    logger: log,
    transport: o.transport,
    onCall: o.onCall,
    onRefusal: (stage, code) => {
      // The code is unsigned text: a bounded set of labels, whatever a path in between sends.
      const label = refusals.has(code) || refusals.size < MAX_REFUSAL_CODES ? code : 'other';
      o.onRefusal(stage, label);
      refusals.set(label, (refusals.get(label) ?? 0) + 1);
    },
  });
  const applyConnection = () => {
    const next = connectionOf(current, identityOf(trust), trust.edgeKeys, policy.current().policy);
    for (const t of Object.values(next.timeouts)) {
      if (t.corrected) log.warn({ key: t.key, configured: t.configuredMs, using: t.effectiveMs }, correctionText(t));
    }
    edge.configure(next);
  };
  const policy = createSitePolicyStore({
    site: o.site,
    file: join(siteStateDir(o.config, o.site), POLICY_FILE),
    configFailmode: current.relay.failmode,
    client: edge,
    refreshMs: current.edge.site_refresh_ms,
    logger: log,
    onChange: applyConnection,
  });
  await policy.load();
  applyConnection();
  const journal = await startJournalSync({
    stateDir: siteStateDir(o.config, o.site),
    maxBytes: current.journal.max_bytes,
    intervalMs: current.journal.upload_interval_ms,
    sync: current.journal.sync,
    edge,
    logger: log,
  });
  onEdgeBack = () => void journal.upload();

  let probe: ReturnType<typeof startHealthProbe> | undefined;
  let beats: ReturnType<typeof startHeartbeat> | undefined;
  return {
    site: o.site,
    edge,
    breaker,
    policy,
    view: policyView(policy),
    journal,
    countDecision(d) {
      decisions[`decisions_${d.result}`]++;
      if (d.result !== 'challenge' && (FAILMODE_SOURCES as readonly string[]).includes(d.source))
        decisions[d.result === 'allow' ? 'failmode_allows' : 'failmode_denies']++;
    },
    start(counters) {
      probe = startHealthProbe({ breaker, client: edge, intervalMs: current.edge.probe_interval_ms, logger: log });
      beats = startHeartbeat({
        edge,
        intervalMs: current.edge.heartbeat_interval_ms,
        breakerState: () => breaker.state,
        counters: () => ({
          ...counters(),
          ...decisions,
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
        void beats?.beat();
      });
    },
    heartbeat: () => beats?.beat() ?? Promise.resolve(false),
    reconfigure(config, nextTrust) {
      current = config;
      trust = nextTrust;
      applyConnection();
    },
    stopTimers() {
      beats?.stop();
      probe?.stop();
      policy.stop();
    },
    close: () => journal.close(),
  };
}

function connectionOf(config: RelayConfig, identity: RelayIdentity, edgeKeys: Key[], policy: SitePolicy | undefined) {
  const timeouts = stageTimeouts(config.edge, policy);
  return {
    urls: config.edge.urls,
    identity,
    edgePublicKeys: edgeKeys,
    preauthTimeoutMs: timeouts.preauth.effectiveMs,
    authTimeoutMs: timeouts.auth.effectiveMs,
    timeouts,
  };
}
