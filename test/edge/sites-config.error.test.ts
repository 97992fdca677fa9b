import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/app.ts';
import { envSchema } from '../../src/env.ts';
import { parseSites } from '../../src/sites/load.ts';
import { errorResponseSchema } from '../../src/wire/schemas.ts';
import { testSitesConfig } from '../support/edge-bindings.ts';
import { RELAY_A_KEY } from '../support/keys.ts';

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

const pathOf = (raw: string) => {
  const r = parseSites(raw);
  if (r.ok) throw new Error('expected the config to be refused');
  return r.error.kind === 'invalid' ? r.error.path : r.error.kind;
};

afterEach(() => vi.restoreAllMocks());

describe('sites config validation names the failing path', () => {
  it.each([
    ['not JSON', '{"integrations":', 'not_json'],
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
    ['an unknown top-level key', withValue('extra', 1), ''],
  ])('%s', (_, raw, path) => {
    expect(pathOf(raw)).toBe(path);
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
  it('answers a generic 500 and logs the path, never the value', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const raw = withValue('integrations.demo.skey', 'leaky-secret-value');
    const res = await createApp().request('/v1/health', {}, { ...env, SITES_CONFIG: raw });
    expect(res.status).toBe(500);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    expect(errorResponseSchema.parse(JSON.parse(text))).toEqual({
      error: { code: 'internal', message: 'internal error' },
    });
    const logged = errors.mock.calls.flat().join('\n');
    expect(logged).toContain('integrations.demo.skey');
    expect(logged).not.toContain('leaky-secret-value');
    expect(text).not.toContain('leaky');
  });

  it('refuses a missing or unusable edge signing key', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const bad = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
    expect((await createApp().request('/v1/health', {}, { ...env, EDGE_SIGNING_KEY: bad })).status).toBe(500);
    expect((await createApp().request('/v1/health', {}, { ...env, EDGE_SIGNING_KEY: '' })).status).toBe(500);
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
