import { env, exports } from 'cloudflare:workers';
import { authResponseSchema } from '@duo-edge/contract/wire';
import { afterEach, expect, inject, it } from 'vitest';
import { SITE_C_LIMITS } from '../support/edge-bindings.ts';
import { RELAY_C_KEY } from '../support/keys.ts';
import { newLoginId, relayClient } from '../support/relay-signer.ts';

// Push fatigue through the real route: site-c allows SITE_C_LIMITS.push_per_window pushes per window.
const client = relayClient({
  fetch: (r: Request) => exports.default.fetch(r),
  baseUrl: 'https://edge.test',
  site: 'site-c',
  key: RELAY_C_KEY,
});
const emulator = inject('duoBaseUrl');

afterEach(async () => {
  await fetch(`${emulator}/_emulator/requests`, { method: 'DELETE' });
});

const push = async (username: string, callingStationId: string) => {
  const res = await client.auth({
    username,
    factor: 'push',
    primary: 'passed',
    login_id: newLoginId(),
    nas: { ip: '192.0.2.10', calling_station_id: callingStationId },
  });
  expect(res.status).toBe(200);
  return authResponseSchema.parse(res.json);
};

it('denies the push after the per-user limit, without calling Duo, and audits it as policy', async () => {
  for (let i = 0; i < SITE_C_LIMITS.push_per_window; i++) {
    expect(await push('alice', `198.51.100.${i}`)).toMatchObject({ result: 'allow', source: 'duo' });
  }
  const over = await push('alice', '198.51.100.99');
  expect(over).toEqual({ result: 'deny', source: 'policy', message: 'Too many login attempts, try again later' });

  const requests = (await (await fetch(`${emulator}/_emulator/requests`)).json()) as {
    requests: Array<{ endpoint: string }>;
  };
  expect(requests.requests.filter((r) => r.endpoint === 'auth')).toHaveLength(SITE_C_LIMITS.push_per_window);

  const rows = await env.AUDIT_DB.prepare(
    "SELECT source, result FROM decisions WHERE site = 'site-c' AND username = 'alice' ORDER BY time",
  ).all<{ source: string; result: string }>();
  expect(rows.results.at(-1)).toEqual({ source: 'policy', result: 'deny' });
});

it('counts per user: another user of the same site is not limited', async () => {
  expect(await push('bob', '198.51.100.1')).toMatchObject({ source: 'duo' });
});
