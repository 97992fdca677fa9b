import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { listDecisions } from '../../src/audit/store.ts';
import { auditUploadRoute } from '../../src/audit/upload-route.ts';
import type { ResolvedSite } from '../../src/sites/load.ts';
import { asRelay, jsonPost, testSite } from './audit-fixtures.ts';

const app = asRelay(auditUploadRoute, 'sec-site', 'sec-key');
const post = (body: unknown) => app.request('https://edge.test/v1/audit', jsonPost(body), env);

const record = (overrides: Record<string, unknown> = {}) => ({
  id: crypto.randomUUID(),
  time: Date.now() - 60_000,
  username: 'mallory',
  stage: 'auth',
  result: 'allow',
  reason: 'x',
  source: 'failmode-relay',
  ...overrides,
});

it.each(['duo', 'failmode-edge', 'policy'])(
  'refuses records claiming source %s: only the edge makes those',
  async (source) => {
    const res = await post({ records: [record(), record({ source })] });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 'invalid_request', message: 'invalid request', field: 'records.1.source' },
    });
    const page = await listDecisions(env.AUDIT_DB, { site: 'sec-site' }, undefined, 10);
    expect(page.ok && page.value.records).toEqual([]);
  },
);

it('names the invalid field and never echoes its value', async () => {
  const cases: Array<[unknown, string]> = [
    [{ records: [] }, 'records'],
    [{ records: Array.from({ length: 501 }, () => record()) }, 'records'],
    [{ records: [record({ id: 'has spaces and secrets hunter2' })] }, 'records.0.id'],
    [{ records: [record({ result: 'maybe' })] }, 'records.0.result'],
    [{ records: [record({ time: -1 })] }, 'records.0.time'],
    [{}, 'records'],
  ];
  for (const [body, field] of cases) {
    const res = await post(body);
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text).error.field).toBe(field);
    expect(text).not.toContain('hunter2');
  }
});

it('answers 400 to a body that is not JSON', async () => {
  const res = await app.request(
    'https://edge.test/v1/audit',
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"records": [' },
    env,
  );
  expect(res.status).toBe(400);
});

describe('record times a relay cannot have written are refused per record, never stored', () => {
  const DAY = 86_400_000;
  const added = Date.now() - 10 * DAY;
  /** A site whose key says when it was added. */
  const withAdded = (id: string) => {
    const base = testSite(id);
    return { ...base, relayKeys: new Map([['dated-key', { revoked: false, added }]]) };
  };
  const postAs = (site: ResolvedSite, key: string, records: unknown[]) =>
    asRelay(auditUploadRoute, site, key).request('https://edge.test/v1/audit', jsonPost({ records }), env);

  it('in the future beyond the skew, before the key was added, or beyond the retention', async () => {
    const site = withAdded('time-site');
    const good = record();
    const future = record({ time: Date.now() + 5 * 60_000 });
    const beforeKey = record({ time: added - DAY });
    const res = await postAs(site, 'dated-key', [good, future, beforeKey]);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      accepted: 1,
      duplicates: 0,
      refused: [
        { id: future.id, reason: 'time_in_future' },
        { id: beforeKey.id, reason: 'time_before_key_added' },
      ],
    });
    // A key without `added`: bounded by the audit retention (90 days here).
    const ancient = record({ time: Date.now() - 91 * DAY });
    const old = await postAs(testSite('time-site'), 'undated-key', [ancient]);
    expect(await old.json()).toEqual({
      accepted: 0,
      duplicates: 0,
      refused: [{ id: ancient.id, reason: 'time_beyond_retention' }],
    });
    const page = await listDecisions(env.AUDIT_DB, { site: 'time-site' }, undefined, 10);
    expect(page.ok && page.value.records.map((r) => r.id)).toEqual([good.id]);
  });
});
