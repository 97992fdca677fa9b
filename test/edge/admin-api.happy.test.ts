import { env } from 'cloudflare:workers';
import type { StoredDecision } from '@duo-edge/contract/audit';
import { beforeAll, expect, it } from 'vitest';
import { adminApp } from '../../src/admin/app.ts';
import { recordDecisions } from '../../src/audit/store.ts';
import { heartbeatRoute } from '../../src/relays/heartbeat-route.ts';
import { sitesLoader } from '../../src/sites/load.ts';
import { asRelay, decision, jsonPost } from './audit-fixtures.ts';

const admin = adminApp(sitesLoader());

const TOKEN = 'admin-token-for-tests-0123456789';
const adminEnv = { ...env, ADMIN_TOKEN: TOKEN };
const get = (path: string) =>
  admin.request(`https://edge.test${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }, adminEnv);

const T0 = 1_750_000_000_000;
const recs = Array.from({ length: 12 }, (_, i) =>
  decision({
    site: i % 3 === 0 ? 'adm-b' : 'adm-a',
    username: i % 2 ? 'alice' : 'bob',
    result: i % 4 === 0 ? 'deny' : 'allow',
    source: i === 5 ? 'failmode-relay' : 'duo',
    time: T0 + i * 1000,
  }),
);

beforeAll(async () => {
  await recordDecisions(env.AUDIT_DB, recs);
});

type Page = { records: StoredDecision[]; next_cursor: string | null };

it('pages decisions with filters until the cursor runs out', async () => {
  const seen: string[] = [];
  let url = '/admin/v1/decisions?site=adm-a&limit=3';
  for (let i = 0; i < 10; i++) {
    const res = await get(url);
    expect(res.status).toBe(200);
    const page = (await res.json()) as Page;
    seen.push(...page.records.map((r) => r.id));
    if (!page.next_cursor) break;
    url = `/admin/v1/decisions?site=adm-a&limit=3&cursor=${page.next_cursor}`;
  }
  const expected = recs
    .filter((r) => r.site === 'adm-a')
    .reverse()
    .map((r) => r.id);
  expect(seen).toEqual(expected);
});

it('filters by user, result, source and time (epoch ms or ISO)', async () => {
  const ids = async (q: string) =>
    ((await (await get(`/admin/v1/decisions?${q}`)).json()) as Page).records.map((r) => r.id);
  const pick = (f: (r: (typeof recs)[number]) => boolean) =>
    recs
      .filter(f)
      .reverse()
      .map((r) => r.id);
  expect(await ids('user=alice&result=deny')).toEqual(pick((r) => r.username === 'alice' && r.result === 'deny'));
  expect(await ids('source=failmode-relay')).toEqual(pick((r) => r.source === 'failmode-relay'));
  expect(await ids(`from=${T0 + 2000}&to=${T0 + 5000}`)).toEqual(
    pick((r) => r.time >= T0 + 2000 && r.time < T0 + 5000),
  );
  const iso = new Date(T0 + 9000).toISOString();
  expect(await ids(`from=${encodeURIComponent(iso)}`)).toEqual(pick((r) => r.time >= T0 + 9000));
});

it('answers 400 naming the bad query field', async () => {
  for (const [q, field] of [
    ['result=maybe', 'result'],
    ['source=relay', 'source'],
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['from=yesterday', 'from'],
    ['to=2026-13-45T99:00:00Z', 'to'],
    ['cursor=garbage!', 'cursor'],
  ]) {
    const res = await get(`/admin/v1/decisions?${q}`);
    expect(res.status, q).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field, q).toBe(field);
  }
});

it('lists relays with last-seen and flags silent ones', async () => {
  const beat = { version: '0.1.0', uptime_s: 10, breaker_state: 'closed', counters: { accepts: 3 } };
  const res = await asRelay(heartbeatRoute, 'adm-a', 'relay-k1').request(
    'https://edge.test/v1/heartbeat',
    jsonPost(beat),
    env,
  );
  expect(res.status).toBe(200);
  await env.AUDIT_DB.prepare(
    `INSERT INTO relays (site, key, name, version, uptime_s, breaker_state, counters, last_seen)
     VALUES ('adm-b', 'relay-old', 'old', '0.0.9', 5, 'open', '{}', ?)`,
  )
    .bind(Date.now() - 3_600_000)
    .run();
  const { relays } = (await (await get('/admin/v1/relays')).json()) as {
    relays: Array<{ key: string; silent: boolean; counters: object; last_seen: number }>;
  };
  expect(relays.map((r) => [r.key, r.silent])).toEqual([
    ['relay-old', true],
    ['relay-k1', false],
  ]);
  expect(relays[1]?.counters).toEqual({ accepts: 3 });
});
