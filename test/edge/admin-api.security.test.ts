import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { adminApp } from '../../src/admin/app.ts';
import { sitesLoader } from '../../src/sites/load.ts';

const admin = adminApp(sitesLoader());

const TOKEN = 'admin-token-for-tests-0123456789';
const get = (path: string, headers: Record<string, string> = {}, adminToken = TOKEN) =>
  admin.request(`https://edge.test${path}`, { headers }, { ...env, ADMIN_TOKEN: adminToken });

describe.each(['/admin/v1/decisions', '/admin/v1/relays'])('%s', (path) => {
  it('rejects a request without a token', async () => {
    const res = await get(path);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: 'unauthorized' } });
  });

  it('rejects a wrong token, a prefix of the token, and the token with a wrong scheme', async () => {
    for (const headers of [
      { authorization: 'Bearer wrong' },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Basic ${TOKEN}` },
      { authorization: TOKEN },
    ]) {
      const res = await get(path, headers);
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain(TOKEN);
    }
  });

  it('accepts the token', async () => {
    expect((await get(path, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it('does not exist when no admin token is configured, whatever the caller sends', async () => {
    for (const headers of [{}, { authorization: 'Bearer ' }, { authorization: 'Bearer anything' }] as Array<
      Record<string, string>
    >) {
      expect((await get(path, headers, '')).status).toBe(404);
    }
  });
});
