import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { listDecisions } from '../../src/audit/store.ts';
import { auditUploadRoute } from '../../src/audit/upload-route.ts';
import { asRelay, jsonPost } from './audit-fixtures.ts';

const app = asRelay(auditUploadRoute, 'sec-site', 'sec-key');
const post = (body: unknown) => app.request('https://edge.test/v1/audit', jsonPost(body), env);

const record = (overrides: Record<string, unknown> = {}) => ({
  id: crypto.randomUUID(),
  time: 1_700_000_000_000,
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
