import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEdge } from '../../src/edge/create.ts';
import { envSchema } from '../../src/env.ts';
import { parseSites } from '../../src/sites/load.ts';
import { testSitesConfig } from '../support/edge-bindings.ts';
import { RELAY_A_KEY, RELAY_B_KEY, type TestKeyPair } from '../support/keys.ts';
import { relayClient } from '../support/relay-signer.ts';

const SKEY = 'demoSecretKeyDemoSecretKeyDemoSecretKey0';

/** The test config with one value replaced at a dotted path. */
function withValue(path: string, value: unknown): string {
  const c = structuredClone(testSitesConfig()) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let node = c;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
  node[keys.at(-1)!] = value;
  return JSON.stringify(c);
}

/** What the edge makes of `raw` for `site`: the broken entry's path, or the document's problem. */
const pathOf = (raw: string, site: string) => {
  const r = parseSites(raw);
  if (!r.ok) return r.error.kind === 'invalid' ? `document: ${r.error.path}` : `document: ${r.error.kind}`;
  const found = r.value.lookup(site);
  if (found.kind !== 'misconfigured') throw new Error(`expected ${site} to be misconfigured, got ${found.kind}`);
  return found.problem.path;
};

afterEach(() => vi.restoreAllMocks());

describe('sites config validation names the failing path', () => {
  it.each([
    ['an ikey of the wrong shape', withValue('integrations.demo.ikey', 'DI123'), 'integrations.demo.ikey'],
    ['an skey that is not 40 characters', withValue('integrations.demo.skey', 'short'), 'integrations.demo.skey'],
    [
      'an api_host that is not a hostname',
      withValue('integrations.demo.api_host', 'https://x/y'),
      'integrations.demo.api_host',
    ],
    ['a site using an unknown integration', withValue('sites.site-a.integration', 'nope'), 'sites.site-a.integration'],
    ['a site without relay keys', withValue('sites.site-a.relay_keys', []), 'sites.site-a.relay_keys'],
    ['a relay key that is not 32 bytes', withValue('sites.site-b.relay_keys', ['AAAA']), 'sites.site-b.relay_keys.0'],
    ['an unknown failmode', withValue('sites.site-a.failmode', 'open'), 'sites.site-a.failmode'],
    ['a misspelt option', withValue('sites.site-a.options', { push_asnyc: false }), 'sites.site-a.options'],
    [
      'a relay key with an `added` that is not a timestamp',
      withValue('sites.site-a.relay_keys', [{ key: RELAY_A_KEY.publicKey, added: 'last tuesday' }]),
      'sites.site-a.relay_keys.0.added',
    ],
  ])('%s', (_, raw, path) => {
    const site = path.startsWith('sites.') ? path.split('.')[1]! : 'site-a';
    expect(pathOf(raw, site)).toBe(path);
  });

  it.each([
    ['not JSON', '{"integrations":', 'document: not_json'],
    ['not an object', '[1,2]', 'document: '],
    ['an unknown top-level key', withValue('extra', 1), 'document: '],
    ['sites that is not an object', withValue('sites', 'all'), 'document: sites'],
  ])('the document itself: %s', (_, raw, expected) => {
    expect(pathOf(raw, 'site-a')).toBe(expected);
  });
});

describe('one broken entry disables only what depends on it', () => {
  it('a bad relay key disables that site; the others are served', () => {
    const r = parseSites(withValue('sites.site-b.relay_keys', ['not-a-key']));
    if (!r.ok) throw new Error('document refused as a whole');
    expect(r.value.lookup('site-b')).toEqual({
      kind: 'misconfigured',
      problem: { path: 'sites.site-b.relay_keys.0', code: 'invalid_union' },
    });
    expect(r.value.site('site-b')).toBeUndefined();
    expect(r.value.lookup('site-a').kind).toBe('ok');
    expect(r.value.lookup('site-c').kind).toBe('ok');
    expect(r.value.lookup('nowhere').kind).toBe('unknown');
    expect(r.value.problems).toEqual([{ path: 'sites.site-b.relay_keys.0', code: 'invalid_union' }]);
  });

  it('a bad integration disables every site using it, named by the integration', () => {
    const r = parseSites(withValue('integrations.demo.skey', 'short'));
    if (!r.ok) throw new Error('document refused as a whole');
    for (const site of ['site-a', 'site-b', 'site-c']) {
      expect(r.value.lookup(site)).toMatchObject({
        kind: 'misconfigured',
        problem: { path: 'integrations.demo.skey' },
      });
    }
    expect(r.value.integrations.size).toBe(0);
  });

  it('keeps the earliest `added` of a key listed twice', () => {
    const r = parseSites(
      withValue('sites.site-a.relay_keys', [
        { key: RELAY_A_KEY.publicKey, added: '2026-03-01T00:00:00Z' },
        { key: RELAY_A_KEY.publicKey, added: '2026-01-01T00:00:00Z' },
      ]),
    );
    if (!r.ok) throw new Error('document refused as a whole');
    expect(r.value.site('site-a')?.relayKeys.get(RELAY_A_KEY.publicKey)).toEqual({
      revoked: false,
      added: Date.parse('2026-01-01T00:00:00Z'),
    });
  });
});

describe('sites config defaults', () => {
  it('are Duo-like: safe failmode, auto factor, push limits, deadlines 10 s / 65 s', () => {
    const r = parseSites(
      JSON.stringify({
        integrations: { i: { ikey: 'DIABCDEFGHIJKLMNOPQR', skey: SKEY, api_host: 'api-x.duosecurity.com' } },
        sites: { s: { integration: 'i', relay_keys: [RELAY_A_KEY.publicKey] } },
      }),
    );
    if (!r.ok) throw new Error('valid config refused');
    const site = r.value.site('s');
    expect(site).toMatchObject({
      failmode: 'safe',
      factors: ['auto'],
      limits: { push_per_window: 5, passcode_failures_per_window: 10, window_seconds: 600 },
      options: {
        duo_only_failopen_acknowledged: false,
        push_async: true,
        preauth_deadline_ms: 10_000,
        auth_deadline_ms: 65_000,
      },
    });
    expect(site?.relayKeys.get(RELAY_A_KEY.publicKey)).toEqual({ revoked: false });
  });

  it('accept a relay key in standard base64 and match it in canonical base64url', () => {
    const std = `${RELAY_A_KEY.publicKey.replace(/-/g, '+').replace(/_/g, '/')}=`;
    const r = parseSites(withValue('sites.site-b.relay_keys', [std]));
    if (!r.ok) throw new Error('valid config refused');
    expect(r.value.site('site-b')?.relayKeys.has(RELAY_A_KEY.publicKey)).toBe(true);
  });
});

describe('an invalid configuration at runtime', () => {
  /** A relay of `site` talking to an edge whose secrets are `env` with `overrides`. */
  const relayOf = (site: string, key: TestKeyPair, overrides: Partial<Env>) => {
    const app = createEdge().app;
    return relayClient({
      fetch: (r) => Promise.resolve(app.request(r, undefined, { ...env, ...overrides })),
      baseUrl: 'https://edge.test',
      site,
      key,
    });
  };
  const preauth = (site: string, key: TestKeyPair, overrides: Partial<Env>) =>
    relayOf(site, key, overrides).preauth({ username: 'carol', primary: 'passed' });
  const health = async (overrides: Partial<Env>) => {
    const res = await createEdge().app.request('/v1/health', {}, { ...env, ...overrides });
    expect(res.status).toBe(200);
    return (await res.json()) as { ok: boolean };
  };
  const SITE_REFUSAL = {
    error: { code: 'site_misconfigured', message: 'this site is misconfigured at the edge; its logins are refused' },
  };
  const EDGE_REFUSAL = {
    error: { code: 'edge_misconfigured', message: 'the edge is misconfigured; logins are refused' },
  };

  it("a broken site entry refuses that site's relays with 403 site_misconfigured; other sites work", async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const overrides = { SITES_CONFIG: withValue('sites.site-b.relay_keys', ['leaky-not-a-key']) };
    const refused = await preauth('site-b', RELAY_B_KEY, overrides);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(refused.json).toEqual(SITE_REFUSAL);
    const served = await preauth('site-a', RELAY_A_KEY, overrides);
    expect(served.status).toBe(200);
    expect(served.json).toMatchObject({ result: 'allow', source: 'duo' });
    const logged = errors.mock.calls.flat().join('\n');
    expect(logged).toContain('sites.site-b.relay_keys.0');
    expect(logged).not.toContain('leaky');
    expect(await health(overrides)).toMatchObject({ ok: false });
  });

  it('a broken integration refuses the sites using it, and logs the path, never the value', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const overrides = { SITES_CONFIG: withValue('integrations.demo.skey', 'leaky-secret-value') };
    const res = await preauth('site-a', RELAY_A_KEY, overrides);
    expect(res.status).toBe(403);
    expect(res.json).toEqual(SITE_REFUSAL);
    const logged = errors.mock.calls.flat().join('\n');
    expect(logged).toContain('integrations.demo.skey');
    expect(logged).not.toContain('leaky-secret-value');
    expect(new TextDecoder().decode(res.bytes)).not.toContain('leaky');
  });

  it.each([
    ['SITES_CONFIG not JSON', { SITES_CONFIG: '{"integrations":' }],
    ['SITES_CONFIG not an object', { SITES_CONFIG: '["site-a"]' }],
    [
      'an unusable edge signing key',
      { EDGE_SIGNING_KEY: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' },
    ],
    ['no edge signing key', { EDGE_SIGNING_KEY: '' }],
  ])(
    '%s: every /v1 call is refused with 403 edge_misconfigured, never a 5xx; health says ok: false',
    async (_, overrides) => {
      vi.spyOn(console, 'error').mockImplementation(() => {});
      const res = await preauth('site-a', RELAY_A_KEY, overrides);
      expect(res.status).toBe(403);
      expect(res.json).toEqual(EDGE_REFUSAL);
      expect(await health(overrides)).toMatchObject({ ok: false });
    },
  );

  it('a bad ADMIN_TOKEN turns /admin off and leaves logins alone', async () => {
    const overrides = { ADMIN_TOKEN: 'short' };
    expect((await preauth('site-a', RELAY_A_KEY, overrides)).status).toBe(200);
    expect(await health(overrides)).toMatchObject({ ok: true });
    const admin = await createEdge().app.request(
      '/admin/v1/relays',
      { headers: { authorization: 'Bearer short' } },
      { ...env, ...overrides },
    );
    expect(admin.status).toBe(404);
  });
});

describe('DUO_API_BASE_URL', () => {
  const base = { SITES_CONFIG: '{}', EDGE_SIGNING_KEY: '-----BEGIN PRIVATE KEY-----', ADMIN_TOKEN: 'x'.repeat(32) };
  const parse = (url: string) => envSchema.safeParse({ ...base, DUO_API_BASE_URL: url });

  it.each([
    ['', null],
    ['https://duo-proxy.example.com/', 'https://duo-proxy.example.com'],
    ['http://127.0.0.1:8788', 'http://127.0.0.1:8788'],
    ['http://127.1.2.3:9', 'http://127.1.2.3:9'],
    ['http://localhost:8788', 'http://localhost:8788'],
    ['http://[::1]:8788', 'http://[::1]:8788'],
  ])('accepts %j', (url, expected) => {
    const r = parse(url);
    expect(r.success && r.data.DUO_API_BASE_URL).toBe(expected);
  });

  it.each([
    'http://duo.example.com',
    'http://10.0.0.1:8788',
    'http://127.0.0.1.evil.example:8788',
    'http://localhost.evil.example',
    'ftp://127.0.0.1',
    'https://user:pw@duo.example.com',
    'https://duo.example.com/?x=1',
    'not a url',
  ])('refuses %j', (url) => {
    expect(parse(url).success).toBe(false);
  });
});
