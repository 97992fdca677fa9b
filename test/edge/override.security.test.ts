import { env, exports } from 'cloudflare:workers';
import type { StoredDecision } from '@duo-edge/contract/audit';
import { REPLY } from '@duo-edge/contract/messages';
import { preauthResponseSchema } from '@duo-edge/contract/wire';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { TEST_ADMIN_TOKEN } from '../support/edge-bindings.ts';
import { RELAY_A_KEY, RELAY_B_KEY } from '../support/keys.ts';
import { relayClient } from '../support/relay-signer.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The primary-only override through the real worker: set and ended over the admin API, stored in
 * D1, applied by /v1/preauth only to logins whose primary passed, and over when its time is up.
 */

const fetchEdge = (r: Request) => exports.default.fetch(r);
const siteA = relayClient({ fetch: fetchEdge, baseUrl: 'https://edge.test', site: 'site-a', key: RELAY_A_KEY });
const emulator = inject('duoBaseUrl');
const URL_A = 'https://edge.test/admin/v1/sites/site-a/override';
const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

const putOverride = (body: unknown, site = 'site-a') =>
  fetchEdge(
    new Request(`https://edge.test/admin/v1/sites/${site}/override`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
const deleteOverride = () => fetchEdge(new Request(URL_A, { method: 'DELETE', headers: auth }));

const preauth = async (username: string, primary: 'passed' | 'none') => {
  const res = await siteA.preauth({ username, primary, nas: { ip: '192.0.2.1' } });
  expect(res.status).toBe(200);
  return preauthResponseSchema.parse(res.json);
};

const duoCalls = async () =>
  ((await (await fetch(`${emulator}/_emulator/requests`)).json()) as { requests: unknown[] }).requests.length;

beforeEach(async () => {
  await env.AUDIT_DB.exec('DELETE FROM site_overrides');
  await fetch(`${emulator}/_emulator/requests`, { method: 'DELETE' });
});
afterEach(async () => {
  await env.AUDIT_DB.exec('DELETE FROM site_overrides');
});

const OVERRIDE_ALLOW = { result: 'allow', source: 'override', message: REPLY.override };

describe('while a primary-only override holds', () => {
  it('a login with a passed primary is allowed without any Duo call, and audited as override', async () => {
    expect((await putOverride({ mode: 'primary_only', minutes: 30, reason: 'Duo outage INC-42' })).status).toBe(200);
    expect(await preauth('bob', 'passed')).toEqual(OVERRIDE_ALLOW);
    expect(await duoCalls()).toBe(0);
    const row = await env.AUDIT_DB.prepare(
      "SELECT * FROM decisions WHERE username = 'bob' AND source = 'override' ORDER BY time DESC LIMIT 1",
    ).first<StoredDecision>();
    expect(row).toMatchObject({ site: 'site-a', result: 'allow', stage: 'preauth' });
    expect(row?.reason).toContain('admin-token');
    expect(row?.reason).toContain('Duo outage INC-42');
  });

  it('a login without a primary (duo_only) still goes to Duo', async () => {
    await putOverride({ mode: 'primary_only', minutes: 30, reason: 'Duo outage' });
    const body = await preauth('bob', 'none');
    expect(body).toMatchObject({ result: 'auth', source: 'duo' });
    expect(await duoCalls()).toBe(1);
  });

  it('holds for site-a only', async () => {
    await putOverride({ mode: 'primary_only', minutes: 30, reason: 'Duo outage' });
    const siteB = relayClient({
      fetch: fetchEdge,
      baseUrl: 'https://edge.test',
      site: 'site-b',
      key: RELAY_B_KEY,
    });
    const res = await siteB.preauth({ username: 'bob', primary: 'passed', nas: {} });
    expect(preauthResponseSchema.parse(res.json)).toMatchObject({ result: 'auth', source: 'duo' });
  });
});

it('ends by itself when its stored expiry passes', async () => {
  await putOverride({ mode: 'primary_only', minutes: 1, reason: 'short' });
  // The expiry the override was stored with, moved to 1.5 s from now: the real check, a short wait.
  const expiresAt = Date.now() + 1_500;
  await env.AUDIT_DB.prepare("UPDATE site_overrides SET expires_at = ?1 WHERE site = 'site-a'").bind(expiresAt).run();
  expect(await preauth('bob', 'passed')).toEqual(OVERRIDE_ALLOW);
  await waitFor(async () => Date.now() > expiresAt + 50, 5_000, 'the override expiry');
  expect(await preauth('bob', 'passed')).toMatchObject({ result: 'auth', source: 'duo' });
  const got = await (await fetchEdge(new Request(URL_A, { headers: auth }))).json();
  expect(got).toEqual({ override: null });
});

it('DELETE ends it at once; set and clear are in the admin action log with actor, reason and time', async () => {
  const before = Date.now();
  await putOverride({ mode: 'primary_only', minutes: 10, reason: 'Duo push delays' });
  const del = await deleteOverride();
  expect(await del.json()).toEqual({ cleared: true });
  expect(await preauth('bob', 'passed')).toMatchObject({ result: 'auth', source: 'duo' });
  const { results } = await env.AUDIT_DB.prepare(
    "SELECT * FROM admin_actions WHERE site = 'site-a' AND time >= ?1 ORDER BY time, action DESC",
  )
    .bind(before)
    .all<{ actor: string; action: string; detail: string; time: number }>();
  expect(results.map((a) => [a.action, a.actor])).toEqual([
    ['override_set', 'admin-token'],
    ['override_clear', 'admin-token'],
  ]);
  expect(results[0]?.detail).toBe('primary_only for 10 min: Duo push delays');
});

describe('the override API refuses', () => {
  it.each([
    [{ mode: 'primary_only', minutes: 0, reason: 'x' }, 'minutes'],
    [{ mode: 'primary_only', minutes: 1441, reason: 'x' }, 'minutes'],
    [{ mode: 'primary_only', minutes: 5, reason: ' ' }, 'reason'],
    [{ mode: 'open', minutes: 5, reason: 'x' }, 'mode'],
    [{ mode: 'primary_only', minutes: 5, reason: 'x', users: ['bob'] }, ''],
  ])('%j naming %s', async (body, field) => {
    const res = await putOverride(body);
    expect(res.status).toBe(400);
    const err = (await res.json()) as { error: { field?: string } };
    if (field) expect(err.error.field).toBe(field);
    expect(await env.AUDIT_DB.prepare('SELECT COUNT(*) AS n FROM site_overrides').first('n')).toBe(0);
  });

  it('an unknown site (404) and a missing or wrong token (401)', async () => {
    expect((await putOverride({ mode: 'primary_only', minutes: 5, reason: 'x' }, 'site-z')).status).toBe(404);
    const anon = await fetchEdge(
      new Request(URL_A, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{"mode":"primary_only","minutes":5,"reason":"x"}',
      }),
    );
    expect(anon.status).toBe(401);
    const wrong = await fetchEdge(new Request(URL_A, { method: 'DELETE', headers: { authorization: 'Bearer nope' } }));
    expect(wrong.status).toBe(401);
  });
});
