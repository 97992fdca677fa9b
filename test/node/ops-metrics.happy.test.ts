import { describe, expect, it } from 'vitest';
import { createRelayMetrics, type SiteState } from '../../local-relay/src/ops/metrics.ts';

/** The value of one sample line, e.g. `duo_relay_in_flight 3`, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('relay metrics', () => {
  it('counts decisions by result and source', async () => {
    const m = createRelayMetrics({});
    m.observeDecision({ result: 'allow', source: 'duo' });
    m.observeDecision({ result: 'allow', source: 'duo' });
    m.observeDecision({ result: 'deny', source: 'failmode-relay' });
    const text = await m.registry.metrics();
    expect(text).toContain('# TYPE duo_relay_decisions_total counter');
    expect(sample(text, 'duo_relay_decisions_total{result="allow",source="duo"}')).toBe(2);
    expect(sample(text, 'duo_relay_decisions_total{result="deny",source="failmode-relay"}')).toBe(1);
  });

  it('records edge latency in a histogram with buckets from 1 ms to 70 s', async () => {
    const m = createRelayMetrics({});
    m.observeEdgeRequest('preauth', 'ok', 0.004);
    m.observeEdgeRequest('auth', 'timeout', 65);
    m.observeEdgeRequest('auth', 'ok', Number.NaN);
    const text = await m.registry.metrics();
    expect(text).toContain('# TYPE duo_relay_edge_request_duration_seconds histogram');
    expect(
      sample(text, 'duo_relay_edge_request_duration_seconds_bucket{le="0.001",stage="preauth",outcome="ok"}'),
    ).toBe(0);
    expect(
      sample(text, 'duo_relay_edge_request_duration_seconds_bucket{le="0.005",stage="preauth",outcome="ok"}'),
    ).toBe(1);
    expect(sample(text, 'duo_relay_edge_request_duration_seconds_bucket{le="60",stage="auth",outcome="timeout"}')).toBe(
      0,
    );
    expect(sample(text, 'duo_relay_edge_request_duration_seconds_bucket{le="70",stage="auth",outcome="timeout"}')).toBe(
      1,
    );
    expect(sample(text, 'duo_relay_edge_request_duration_seconds_count{stage="auth",outcome="timeout"}')).toBe(1);
    // A non-finite duration is dropped rather than thrown into the request path.
    expect(sample(text, 'duo_relay_edge_request_duration_seconds_count{stage="auth",outcome="ok"}')).toBeUndefined();
  });

  it('reads mirrored gauges live from their getters at each scrape, each site under its own label', async () => {
    const states: Record<string, Omit<SiteState, 'site'>> = {
      'site-a': { failmode: 'safe', policyAgeSeconds: 12, breakerState: 'closed', journalDepth: 0, journalDropped: 0 },
      'site-b': { failmode: 'secure', breakerState: 'closed', journalDepth: 3, journalDropped: 0 },
    };
    let inFlight = 2;
    const m = createRelayMetrics({
      sites: () => Object.entries(states).map(([site, s]) => ({ site, ...s })),
      inFlight: () => inFlight,
    });
    let text = await m.registry.metrics();
    expect(sample(text, 'duo_relay_breaker_state{site="site-a"}')).toBe(0);
    expect(sample(text, 'duo_relay_breaker_state{site="site-b"}')).toBe(0);
    expect(sample(text, 'duo_relay_journal_depth{site="site-a"}')).toBe(0);
    expect(sample(text, 'duo_relay_journal_depth{site="site-b"}')).toBe(3);
    expect(sample(text, 'duo_relay_in_flight')).toBe(2);
    expect(sample(text, 'duo_relay_failmode{site="site-a",failmode="safe"}')).toBe(1);
    expect(sample(text, 'duo_relay_failmode{site="site-a",failmode="secure"}')).toBe(0);
    expect(sample(text, 'duo_relay_failmode{site="site-b",failmode="safe"}')).toBe(0);
    expect(sample(text, 'duo_relay_failmode{site="site-b",failmode="secure"}')).toBe(1);
    expect(sample(text, 'duo_relay_site_policy_age_seconds{site="site-a"}')).toBe(12);
    // No signed policy yet: no age rather than a made-up one.
    expect(text).not.toContain('duo_relay_site_policy_age_seconds{site="site-b"}');

    // One site's edge path fails: only its breaker opens.
    states['site-b']!.breakerState = 'open';
    states['site-a']!.journalDepth = 17;
    states['site-a']!.policyAgeSeconds = 75;
    inFlight = 0;
    text = await m.registry.metrics();
    expect(sample(text, 'duo_relay_breaker_state{site="site-a"}')).toBe(0);
    expect(sample(text, 'duo_relay_breaker_state{site="site-b"}')).toBe(1);
    expect(sample(text, 'duo_relay_journal_depth{site="site-a"}')).toBe(17);
    expect(sample(text, 'duo_relay_journal_depth{site="site-b"}')).toBe(3);
    expect(sample(text, 'duo_relay_site_policy_age_seconds{site="site-a"}')).toBe(75);
    expect(sample(text, 'duo_relay_in_flight')).toBe(0);

    states['site-b']!.breakerState = 'closed';
    expect(sample(await m.registry.metrics(), 'duo_relay_breaker_state{site="site-b"}')).toBe(0);
  });

  it('maps server counters to drops by reason and duplicates by kind, as counters', async () => {
    let counters: Record<string, number> = {
      packets_received: 50,
      unknown_client: 3,
      malformed: 1,
      missing_message_authenticator: 2,
      dropped_stopping: 1,
      duplicates_in_flight: 0,
      accepts: 9,
    };
    const m = createRelayMetrics({ serverCounters: () => counters });
    let text = await m.registry.metrics();
    expect(text).toContain('# TYPE duo_relay_packets_dropped_total counter');
    expect(text).toContain('# TYPE duo_relay_duplicates_total counter');
    expect(sample(text, 'duo_relay_packets_dropped_total{reason="unknown_client"}')).toBe(3);
    expect(sample(text, 'duo_relay_packets_dropped_total{reason="malformed"}')).toBe(1);
    expect(sample(text, 'duo_relay_packets_dropped_total{reason="missing_message_authenticator"}')).toBe(2);
    expect(sample(text, 'duo_relay_packets_dropped_total{reason="stopping"}')).toBe(1);
    // Both kinds are exported from the start, even before the server reports one.
    expect(sample(text, 'duo_relay_duplicates_total{kind="in_flight"}')).toBe(0);
    expect(sample(text, 'duo_relay_duplicates_total{kind="replayed"}')).toBe(0);
    // Non-drop counters are not mistaken for drops.
    expect(text).not.toMatch(/reason="(packets_received|accepts)"/);

    counters = { ...counters, unknown_client: 5, duplicates_in_flight: 1, duplicates_replayed: 4 };
    text = await m.registry.metrics();
    expect(sample(text, 'duo_relay_packets_dropped_total{reason="unknown_client"}')).toBe(5);
    expect(sample(text, 'duo_relay_duplicates_total{kind="in_flight"}')).toBe(1);
    expect(sample(text, 'duo_relay_duplicates_total{kind="replayed"}')).toBe(4);
    // Scraping again without new counts changes nothing.
    text = await m.registry.metrics();
    expect(sample(text, 'duo_relay_packets_dropped_total{reason="unknown_client"}')).toBe(5);
  });

  it('keeps mirrored counters monotonic when their source restarts from zero', async () => {
    let dropped = 7;
    let server: Record<string, number> = { malformed: 4 };
    const m = createRelayMetrics({
      sites: () => [
        { site: 'site-a', failmode: 'safe', breakerState: 'closed', journalDepth: 0, journalDropped: dropped },
        { site: 'site-b', failmode: 'secure', breakerState: 'closed', journalDepth: 0, journalDropped: 1 },
      ],
      serverCounters: () => server,
    });
    let text = await m.registry.metrics();
    expect(text).toContain('# TYPE duo_relay_journal_dropped_total counter');
    expect(sample(text, 'duo_relay_journal_dropped_total{site="site-a"}')).toBe(7);
    expect(sample(text, 'duo_relay_journal_dropped_total{site="site-b"}')).toBe(1);
    expect(sample(text, 'duo_relay_packets_dropped_total{reason="malformed"}')).toBe(4);

    dropped = 2;
    server = { malformed: 1 };
    text = await m.registry.metrics();
    expect(sample(text, 'duo_relay_journal_dropped_total{site="site-a"}')).toBe(9);
    expect(sample(text, 'duo_relay_journal_dropped_total{site="site-b"}')).toBe(1);
    expect(sample(text, 'duo_relay_packets_dropped_total{reason="malformed"}')).toBe(5);
  });

  it('exports default process metrics with the relay prefix on a private registry', async () => {
    const a = createRelayMetrics({});
    const b = createRelayMetrics({});
    a.observeDecision({ result: 'allow', source: 'duo' });
    const text = await a.registry.metrics();
    expect(text).toContain('duo_relay_process_cpu_user_seconds_total');
    expect(text).toContain('duo_relay_nodejs_eventloop_lag_seconds');
    expect(await b.registry.metrics()).not.toContain('duo_relay_decisions_total{');
  });

  it('registers a mirrored metric only when its source is wired', async () => {
    const text = await createRelayMetrics({}).registry.metrics();
    for (const name of [
      'breaker_state',
      'failmode',
      'site_policy_age_seconds',
      'journal_depth',
      'journal_dropped_total',
      'in_flight',
      'packets_dropped_total',
      'duplicates_total',
    ]) {
      expect(text).not.toContain(`duo_relay_${name} `);
      expect(text).not.toContain(`# TYPE duo_relay_${name} `);
    }
  });
});
