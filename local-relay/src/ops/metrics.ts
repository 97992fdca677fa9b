import type { BreakerState } from '@duo-edge/contract/heartbeat';
import { type Failmode, failmodeSchema } from '@duo-edge/contract/wire';
import { DROP_COUNTERS } from '../server/counters.ts';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from './prom-client.ts';

/**
 * The relay's Prometheus metrics, on a private registry so tests and embedders never share state
 * through prom-client's global one.
 *
 * Two kinds of metric live here. Events the relay observes as they happen (decisions, edge calls)
 * are pushed through the returned functions. State owned by other components (breaker, journal,
 * server counters) is pulled in `collect()` at scrape time from injected getters, so those
 * components stay unaware of metrics.
 */

export interface RelayMetricSources {
  /**
   * The RADIUS server's `counters()`: monotonic totals such as `{ malformed: 1, dropped_stopping: 2,
   * duplicates_replayed: 4 }`. Drop keys become `packets_dropped_total{reason}`, `duplicates_*`
   * keys become `duplicates_total{kind}`; the rest are not exported.
   */
  serverCounters?: () => Readonly<Record<string, number>>;
  /** Each site's breaker and journal: their metrics carry a `site` label. */
  sites?: () => ReadonlyArray<SiteState>;
  inFlight?: () => number;
  /** Primary checks refused at the concurrency caps, by RADIUS client name (monotonic totals). */
  primaryRefused?: () => Readonly<Record<string, number>>;
  /** The LDAP proxy's running totals by event (`connections`, `malformed_request`, ...). */
  ldapCounters?: () => Readonly<Record<string, number>>;
  /** Monotonic total of auth events the syslog sink dropped (queue full, failed datagram). */
  syslogDropped?: () => number;
}

/** What the relay keeps per edge site, read at each scrape. */
export interface SiteState {
  site: string;
  /** The failmode this site's logins get while the edge is unreachable. */
  failmode: Failmode;
  /** Since the edge signed the policy in force; undefined before any signed policy. */
  policyAgeSeconds?: number;
  breakerState: BreakerState;
  journalDepth: number;
  /** Monotonic total of journal entries dropped (journal full). */
  journalDropped: number;
}

export interface RelayMetrics {
  registry: Registry;
  observeDecision(d: { result: string; source: string }): void;
  observeEdgeRequest(stage: string, outcome: string, seconds: number): void;
  /** A 4xx from the edge whose body named an error code (site_misconfigured, edge_misconfigured, ...). */
  observeEdgeRefusal(stage: string, code: string): void;
}

const PREFIX = 'duo_relay_';

/** 1 ms (a cached or breaker-open answer) up to 70 s (a push the user answers at the last moment). */
export const EDGE_LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 70,
] as const;

const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, open: 1 };

const DUPLICATES_KEY_PREFIX = 'duplicates_';
/** Server counters of dropped requests: the reason label is the key (without a `dropped_` prefix). */
const DROP_KEYS: ReadonlySet<string> = new Set(DROP_COUNTERS);

export function createRelayMetrics(sources: RelayMetricSources = {}): RelayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PREFIX });

  const decisions = new Counter({
    name: `${PREFIX}decisions_total`,
    help: 'Login decisions sent to a NAS, by result and by who decided (duo, failmode-edge, failmode-relay, ...).',
    labelNames: ['result', 'source'] as const,
    registers: [registry],
  });

  const edgeDuration = new Histogram({
    name: `${PREFIX}edge_request_duration_seconds`,
    help: 'Duration of relay -> edge requests, by stage and outcome.',
    labelNames: ['stage', 'outcome'] as const,
    buckets: [...EDGE_LATENCY_BUCKETS],
    registers: [registry],
  });

  const edgeRefusals = new Counter({
    name: `${PREFIX}edge_refusals_total`,
    help: 'Refusals (HTTP 4xx) from the edge, by stage and the error code the edge gave.',
    labelNames: ['stage', 'code'] as const,
    registers: [registry],
  });

  const { serverCounters, sites, inFlight, primaryRefused, ldapCounters } = sources;

  if (ldapCounters) {
    const delta = deltaSinceLastCollect();
    new Counter({
      name: `${PREFIX}ldap_events_total`,
      help: 'LDAP proxy events: connections, malformed requests/responses (connection closed), limits, timeouts.',
      labelNames: ['event'] as const,
      registers: [registry],
      collect() {
        for (const [event, total] of Object.entries(ldapCounters())) this.inc({ event }, delta(event, total));
      },
    });
  }

  if (serverCounters) {
    const droppedDelta = deltaSinceLastCollect();
    new Counter({
      name: `${PREFIX}packets_dropped_total`,
      help: 'RADIUS packets dropped without an answer, by reason.',
      labelNames: ['reason'] as const,
      registers: [registry],
      collect() {
        for (const [reason, total] of dropEntries(serverCounters())) {
          this.inc({ reason }, droppedDelta(reason, total));
        }
      },
    });

    const duplicatesDelta = deltaSinceLastCollect();
    const duplicates = new Counter({
      name: `${PREFIX}duplicates_total`,
      help: 'Retransmitted requests absorbed: joined to an in-flight request, or answered from the reply cache.',
      labelNames: ['kind'] as const,
      registers: [registry],
      collect() {
        for (const [kind, total] of prefixedEntries(serverCounters(), DUPLICATES_KEY_PREFIX)) {
          this.inc({ kind }, duplicatesDelta(kind, total));
        }
      },
    });
    // Both kinds exist from the first scrape, so rate() works before the first duplicate.
    duplicates.inc({ kind: 'in_flight' }, 0);
    duplicates.inc({ kind: 'replayed' }, 0);
  }

  if (sites) {
    // A gauge per site, set afresh at each scrape; a site without a value has no sample.
    const perSite = (name: string, help: string, value: (s: SiteState) => number | undefined) =>
      new Gauge({
        name: `${PREFIX}${name}`,
        help,
        labelNames: ['site'] as const,
        registers: [registry],
        collect() {
          this.reset();
          for (const s of sites()) {
            const v = value(s);
            if (v !== undefined) this.set({ site: s.site }, v);
          }
        },
      });
    perSite(
      'breaker_state',
      'Edge circuit breaker of each site: 0 closed, 1 open (failmode answers at once; the health probe closes it).',
      (s) => BREAKER_STATE_VALUE[s.breakerState],
    );
    perSite(
      'journal_depth',
      'Decisions journalled on the relay and not yet uploaded to the edge, by site.',
      (s) => s.journalDepth,
    );
    new Gauge({
      name: `${PREFIX}failmode`,
      help: 'The failmode in force for each site while the edge is unreachable: 1 on its failmode, 0 on the other.',
      labelNames: ['site', 'failmode'] as const,
      registers: [registry],
      collect() {
        for (const s of sites()) {
          for (const failmode of failmodeSchema.options)
            this.set({ site: s.site, failmode }, Number(s.failmode === failmode));
        }
      },
    });
    perSite(
      'site_policy_age_seconds',
      'Seconds since the edge signed the site policy in force (it grows while the edge is unreachable); absent before any.',
      (s) => s.policyAgeSeconds,
    );
    const delta = deltaSinceLastCollect();
    new Counter({
      name: `${PREFIX}journal_dropped_total`,
      help: 'Journal entries dropped because the journal was full, by site.',
      labelNames: ['site'] as const,
      registers: [registry],
      collect() {
        for (const s of sites()) this.inc({ site: s.site }, delta(s.site, s.journalDropped));
      },
    });
  }

  if (sources.syslogDropped) {
    const { syslogDropped } = sources;
    const delta = deltaSinceLastCollect();
    new Counter({
      name: `${PREFIX}syslog_dropped_total`,
      help: 'Auth events not sent to syslog: the queue was full while the receiver was unreachable, or a datagram failed.',
      registers: [registry],
      collect() {
        this.inc(delta('', syslogDropped()));
      },
    });
  }

  if (inFlight) {
    new Gauge({
      name: `${PREFIX}in_flight`,
      help: 'Access-Requests being processed right now.',
      registers: [registry],
      collect() {
        this.set(inFlight());
      },
    });
  }

  if (primaryRefused) {
    const delta = deltaSinceLastCollect();
    new Counter({
      name: `${PREFIX}primary_checks_refused_total`,
      help: 'Access-Requests dropped because their client (or the relay) had every primary check slot taken, by client.',
      labelNames: ['client'] as const,
      registers: [registry],
      collect() {
        for (const [client, total] of Object.entries(primaryRefused())) this.inc({ client }, delta(client, total));
      },
    });
  }

  return {
    registry,
    observeDecision(d) {
      decisions.inc({ result: d.result, source: d.source });
    },
    observeEdgeRequest(stage, outcome, seconds) {
      // A metric must never throw into the request path; a bad clock reading is simply not recorded.
      if (!Number.isFinite(seconds) || seconds < 0) return;
      edgeDuration.observe({ stage, outcome }, seconds);
    },
    observeEdgeRefusal(stage, code) {
      edgeRefusals.inc({ stage, code });
    },
  };
}

function* dropEntries(counters: Readonly<Record<string, number>>): Generator<[string, number]> {
  for (const [key, value] of Object.entries(counters)) {
    if (DROP_KEYS.has(key)) yield [key.replace(/^dropped_/, ''), value];
  }
}

function* prefixedEntries(counters: Readonly<Record<string, number>>, prefix: string): Generator<[string, number]> {
  for (const [key, value] of Object.entries(counters)) {
    if (key.startsWith(prefix) && key.length > prefix.length) yield [key.slice(prefix.length), value];
  }
}

/**
 * Mirrors a source's running totals into a prom-client Counter, which can only be incremented:
 * each scrape adds what the total grew by since the previous scrape. This keeps the exported
 * type `counter` (so rate()/increase() are valid) instead of faking totals with a Gauge. A total
 * that went down means its source was recreated; its whole new value is then new counts, and the
 * exported counter stays monotonic for the life of the process.
 */
function deltaSinceLastCollect(): (key: string, total: number) => number {
  const last = new Map<string, number>();
  return (key, total) => {
    if (!Number.isFinite(total) || total < 0) return 0;
    const previous = last.get(key) ?? 0;
    last.set(key, total);
    return total >= previous ? total - previous : total;
  };
}
