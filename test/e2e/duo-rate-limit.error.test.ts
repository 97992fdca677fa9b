import { REPLY } from '@duo-edge/contract/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_NAME, type RadiusLoginClient } from '../bench/lib/radius-load.ts';
import {
  type DuoAndEdge,
  type RelayProcess,
  type SpawnedRelay,
  scrapeMetric,
  spawnRelayWithClient,
  startDuoAndEdge,
} from '../support/stack.ts';

/**
 * Duo rate-limits (HTTP 429) on a `safe` site: the edge backs off and retries inside its own preauth
 * deadline (production default 10 s) and then answers with Duo's refusal. A relay whose configured
 * preauth timeout is shorter (5 s, the value older docs suggested) must not give up first, take
 * its own timeout for an edge outage and let the user in on the password; nor may a burst of such
 * logins open its breaker so that everyone fails open. The relay raises its timeout above the
 * edge's deadline and says so.
 */

let stack: DuoAndEdge;
let spawned: SpawnedRelay;
let relay: RelayProcess;
let client: RadiusLoginClient;

beforeAll(async () => {
  stack = await startDuoAndEdge({ deadlines: 'production' });
  spawned = await spawnRelayWithClient('duo-429', {
    site: 'site-a',
    failmode: 'safe',
    edgeUrls: [stack.edgeUrl],
    preauthTimeoutMs: 5_000,
    authTimeoutMs: 70_000,
    logLevel: 'warn',
  });
  ({ relay, client } = spawned);
}, 120_000);

afterAll(async () => {
  await spawned?.close();
  await stack?.close();
});

describe('Duo answers 429 to every preauth (safe site, relay preauth_timeout_ms = 5000)', () => {
  it('the relay names and raises its too-short timeout', () => {
    const warning = relay
      .output()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg?: string; key?: string; using?: number })
      .find((l) => l.key === 'edge.preauth_timeout_ms');
    expect(warning).toMatchObject({ using: 12_000 });
    expect(warning?.msg).toMatch(/^edge\.preauth_timeout_ms = 5000 does not exceed/);
  });

  it('three logins at once: each ends in Reject by the edge, one answer each, the breaker stays closed', async () => {
    const res = await fetch(`${stack.emulator.url}/_emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ endpoint: 'preauth', fault: '429' }),
    });
    expect(res.status).toBe(200);
    const since = Date.now();
    const users = ['alice', 'carol', 'erin'];
    const results = await Promise.all(
      users.map((u, i) =>
        client.login(
          { username: u, password: `${u}-pass`, callingStationId: `203.0.113.${i + 1}` },
          { timeoutMs: 30_000 },
        ),
      ),
    );
    for (const r of results) {
      expect(r.replies, `exactly one answer for ${r.spec.username}`).toHaveLength(1);
      const reply = r.replies[0]!;
      expect({ outcome: CODE_NAME[reply.code], message: reply.replyMessage }).toEqual({
        outcome: 'Reject',
        message: REPLY.failSecureDenied,
      });
    }
    // The edge decided (its failmode on Duo's 4xx) and audited it; the relay did not step in.
    const records = await stack.decisions({ site: 'site-a', from: since, source: 'failmode-edge' });
    expect(records.map((r) => r.username).sort()).toEqual(users);
    expect(records.every((r) => r.result === 'deny' && r.stage === 'preauth')).toBe(true);
    expect(await stack.decisions({ site: 'site-a', from: since, source: 'failmode-relay' })).toEqual([]);
    // Duo's 429 was retried with back-off before the edge gave up.
    expect(stack.emulator.state.requests.filter((r) => r.endpoint === 'preauth').length).toBeGreaterThan(users.length);
    expect(await scrapeMetric(relay.managementUrl, 'duo_relay_breaker_state')).toBe(0);
    expect(
      await scrapeMetric(relay.managementUrl, 'duo_relay_decisions_total', 'source="failmode-relay"'),
    ).toBeUndefined();
    expect(client.unmatched).toBe(0);
  }, 60_000);
});
