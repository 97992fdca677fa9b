import { env } from 'cloudflare:workers';
import { type HeartbeatRequest, SILENT_AFTER_MS } from '@duo-edge/contract/heartbeat';
import { expect, it } from 'vitest';
import { heartbeatRoute } from '../../src/relays/heartbeat-route.ts';
import { listRelays, recordHeartbeat } from '../../src/relays/store.ts';
import { RELAY_A_KEY } from '../support/keys.ts';
import { asRelay, jsonPost } from './audit-fixtures.ts';

const beat = (overrides: Record<string, unknown> = {}): HeartbeatRequest =>
  ({
    name: 'relay-east',
    version: '0.1.0',
    uptime_s: 30,
    breaker_state: 'closed',
    counters: { accepts: 1, rejects: 0, journal_depth: 0 },
    ...overrides,
  }) as HeartbeatRequest;

it('upserts one row per (site, key) with the latest heartbeat', async () => {
  const app = asRelay(heartbeatRoute, 'hb-site', 'hb-key');
  const first = await app.request('https://edge.test/v1/heartbeat', jsonPost(beat()), env);
  expect(first.status).toBe(200);
  expect(await first.json()).toMatchObject({ ok: true, edge_time: expect.any(Number) });
  await app.request(
    'https://edge.test/v1/heartbeat',
    jsonPost(beat({ uptime_s: 60, breaker_state: 'open', counters: { accepts: 2 } })),
    env,
  );
  const relays = (await listRelays(env.AUDIT_DB, Date.now())).filter((r) => r.site === 'hb-site');
  expect(relays).toEqual([
    {
      site: 'hb-site',
      key: 'hb-key',
      name: 'relay-east',
      version: '0.1.0',
      uptime_s: 60,
      breaker_state: 'open',
      counters: { accepts: 2 },
      last_seen: expect.any(Number),
      silent: false,
    },
  ]);
});

it('flags a relay silent only after more than 90 s without a heartbeat', async () => {
  const t = 5_000_000;
  await recordHeartbeat(env.AUDIT_DB, 'hb-silent', 'k', beat(), t);
  const silent = async (now: number) =>
    (await listRelays(env.AUDIT_DB, now)).find((r) => r.site === 'hb-silent')?.silent;
  expect(await silent(t + SILENT_AFTER_MS)).toBe(false);
  expect(await silent(t + SILENT_AFTER_MS + 1)).toBe(true);
  await recordHeartbeat(env.AUDIT_DB, 'hb-silent', 'k', beat(), t + SILENT_AFTER_MS + 1);
  expect(await silent(t + SILENT_AFTER_MS + 2)).toBe(false);
});

it('answers 400 naming the bad heartbeat field', async () => {
  const app = asRelay(heartbeatRoute, 'hb-bad', 'k');
  for (const [body, field] of [
    [beat({ breaker_state: 'melted' }), 'breaker_state'],
    // The relay's breaker has no half-open state; a heartbeat claiming one is not from our relay.
    [beat({ breaker_state: 'half_open' }), 'breaker_state'],
    [beat({ uptime_s: -1 }), 'uptime_s'],
    [beat({ counters: { 'Bad Name': 1 } }), 'counters'],
    [beat({ version: '' }), 'version'],
  ] as const) {
    const res = await app.request('https://edge.test/v1/heartbeat', jsonPost(body), env);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toMatch(new RegExp(`^${field}`));
  }
});

it('names the relay as the sites config does, not as the relay says', async () => {
  const app = asRelay(heartbeatRoute, 'site-a', RELAY_A_KEY.publicKey);
  await app.request('https://edge.test/v1/heartbeat', jsonPost(beat({ name: 'i-am-someone-else' })), env);
  const [row] = (await listRelays(env.AUDIT_DB, Date.now())).filter((r) => r.site === 'site-a');
  expect(row).toMatchObject({ key: RELAY_A_KEY.publicKey, name: 'relay-a1' });
});
