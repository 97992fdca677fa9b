import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { adminApp } from '../../src/admin/app.ts';
import { accessActor } from '../../src/admin/console/access.ts';
import { csvField } from '../../src/admin/console/csv.ts';
import { SIGNIN_LIMIT } from '../../src/admin/console/signin-limit.ts';
import { runRetention } from '../../src/audit/retention.ts';
import { sitesLoader } from '../../src/sites/load.ts';

const admin = adminApp(sitesLoader());

/** The console's defences, through the admin app with the worker's real D1. */

const TOKEN = 'console-token-for-tests-0123456789';
const ORIGIN = 'https://edge.test';
const tokenEnv = { ...env, ADMIN_TOKEN: TOKEN, ACCESS_TEAM_DOMAIN: '', ACCESS_AUD: '' };

const signIn = (token: string, ip: string, headers: Record<string, string> = { origin: ORIGIN }) =>
  admin.request(
    `${ORIGIN}/admin/signin`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'cf-connecting-ip': ip, ...headers },
      body: new URLSearchParams({ token }).toString(),
    },
    tokenEnv,
  );

const sessionCookie = (res: Response) => res.headers.get('set-cookie')?.split(';')[0] ?? '';

beforeEach(async () => {
  await env.AUDIT_DB.exec('DELETE FROM signin_failures');
});

describe('token sign-in', () => {
  it('sets an HttpOnly, SameSite=Strict, Secure session cookie that opens the overview', async () => {
    const res = await signIn(TOKEN, '203.0.113.1');
    expect(res.status).toBe(303);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Secure/);
    expect(setCookie).toMatch(/Max-Age=43200/);
    const overview = await admin.request(`${ORIGIN}/admin/`, { headers: { cookie: sessionCookie(res) } }, tokenEnv);
    expect(overview.status).toBe(200);
    expect(await overview.text()).toContain('Overview');
  });

  it('a tampered cookie or one signed for another token is no session', async () => {
    const cookie = sessionCookie(await signIn(TOKEN, '203.0.113.2'));
    const tampered = cookie.replace(/=(\d)/, (_, d) => `=${(Number(d) + 1) % 10}`);
    for (const [c, e] of [
      [tampered, tokenEnv],
      [cookie, { ...tokenEnv, ADMIN_TOKEN: `${TOKEN}-rotated` }],
    ] as const) {
      const res = await admin.request(`${ORIGIN}/admin/`, { headers: { cookie: c }, redirect: 'manual' }, e);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/admin/signin');
    }
  });

  it(`refuses an IP after ${SIGNIN_LIMIT.failures} failures, even with the right token; other IPs still sign in`, async () => {
    for (let i = 0; i < SIGNIN_LIMIT.failures; i++)
      expect((await signIn('wrong-token', '198.51.100.9')).status).toBe(401);
    expect((await signIn(TOKEN, '198.51.100.9')).status).toBe(429);
    expect((await signIn(TOKEN, '198.51.100.10')).status).toBe(303);
    // The count lives in D1, where every isolate reads it.
    const row = await env.AUDIT_DB.prepare("SELECT failures FROM signin_failures WHERE ip = '198.51.100.9'").first();
    expect(row).toEqual({ failures: SIGNIN_LIMIT.failures });
  });

  it('a new window starts counting afresh, and the daily retention drops ended windows', async () => {
    const stale = Date.now() - SIGNIN_LIMIT.windowMs - 1;
    await env.AUDIT_DB.prepare('INSERT INTO signin_failures (ip, window_start, failures) VALUES (?1, ?2, ?3)')
      .bind('198.51.100.11', stale, SIGNIN_LIMIT.failures)
      .run();
    expect((await signIn('wrong-token', '198.51.100.11')).status).toBe(401);
    expect(
      await env.AUDIT_DB.prepare("SELECT failures FROM signin_failures WHERE ip = '198.51.100.11'").first(),
    ).toEqual({ failures: 1 });
    await env.AUDIT_DB.prepare("UPDATE signin_failures SET window_start = ?1 WHERE ip = '198.51.100.11'")
      .bind(stale)
      .run();
    expect((await runRetention({ AUDIT_DB: env.AUDIT_DB }, Date.now())).signinFailures).toBe(1);
    expect(await env.AUDIT_DB.prepare('SELECT COUNT(*) AS n FROM signin_failures').first('n')).toBe(0);
  });
});

describe('CSRF and headers', () => {
  it('refuses a POST from another origin or without Origin', async () => {
    const cookie = sessionCookie(await signIn(TOKEN, '203.0.113.3'));
    for (const origin of ['https://evil.example', 'null', undefined]) {
      const res = await admin.request(
        `${ORIGIN}/admin/sites/site-a/override`,
        {
          method: 'POST',
          headers: {
            cookie,
            'content-type': 'application/x-www-form-urlencoded',
            ...(origin ? { origin } : {}),
          },
          body: 'mode=primary_only&minutes=60&reason=forged',
        },
        tokenEnv,
      );
      expect(res.status).toBe(403);
    }
    expect(await env.AUDIT_DB.prepare('SELECT COUNT(*) AS n FROM site_overrides').first('n')).toBe(0);
    expect((await signIn(TOKEN, '203.0.113.4', { origin: 'https://evil.example' })).status).toBe(403);
  });

  it('sends a script-free CSP, no framing and no-store on every page, the sign-in page included', async () => {
    const res = await admin.request(`${ORIGIN}/admin/signin`, {}, tokenEnv);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src|unsafe-inline/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).not.toContain('<script');
  });

  it('CSV fields a spreadsheet would run as formulas are defused', () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('alice')).toBe('alice');
    expect(csvField(null)).toBe('');
  });
});

describe('behind Cloudflare Access', () => {
  const mode = { kind: 'access', teamDomain: 'team.cloudflareaccess.com', aud: 'a'.repeat(64) } as const;
  const accessEnv = { ...tokenEnv, ACCESS_TEAM_DOMAIN: mode.teamDomain, ACCESS_AUD: mode.aud };

  const keyPair = async () => {
    const pair = (await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    const jwk = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as JsonWebKey;
    return { privateKey: pair.privateKey, jwk: { ...jwk, kid: 'k1', alg: 'RS256' } };
  };
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: Record<string, unknown> = {}) => ({
    iss: `https://${mode.teamDomain}`,
    aud: [mode.aud],
    email: 'ops@example.com',
    iat: now() - 10,
    exp: now() + 600,
    ...over,
  });
  const b64url = (bytes: Uint8Array) =>
    btoa(String.fromCharCode(...bytes))
      .replaceAll('+', '-')
      .replaceAll('/', '_')
      .replace(/=+$/, '');
  const json = (v: unknown) => b64url(new TextEncoder().encode(JSON.stringify(v)));
  /** An RS256 JWT as Access issues it (key id in the header). */
  const sign = async (key: CryptoKey, payload: Record<string, unknown>) => {
    const input = `${json({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${json(payload)}`;
    const sig = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, new TextEncoder().encode(input));
    return `${input}.${b64url(new Uint8Array(sig))}`;
  };

  it('accepts a JWT from the team for this audience, and takes its email as the actor', async () => {
    const { privateKey, jwk } = await keyPair();
    expect(await accessActor(await sign(privateKey, claims()), mode, [jwk])).toBe('ops@example.com');
  });

  it.each([
    ['another audience', { aud: ['b'.repeat(64)] }],
    ['another issuer', { iss: 'https://evil.cloudflareaccess.com' }],
    ['an expired token', { exp: now() - 60 }],
    ['no email', { email: undefined }],
  ])('refuses %s', async (_name, over) => {
    const { privateKey, jwk } = await keyPair();
    expect(await accessActor(await sign(privateKey, claims(over)), mode, [jwk])).toBeNull();
  });

  it('refuses a JWT signed by a key that is not the team’s', async () => {
    const team = await keyPair();
    const other = await keyPair();
    expect(await accessActor(await sign(other.privateKey, claims()), mode, [team.jwk])).toBeNull();
  });

  it('without the Access header the console is closed, and the token form is not offered', async () => {
    const res = await admin.request(`${ORIGIN}/admin/`, {}, accessEnv);
    expect(res.status).toBe(403);
    const signin = await admin.request(`${ORIGIN}/admin/signin`, { redirect: 'manual' }, accessEnv);
    expect(signin.status).toBe(303);
    const viaForm = await admin.request(
      `${ORIGIN}/admin/signin`,
      {
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${TOKEN}`,
      },
      accessEnv,
    );
    expect(viaForm.headers.get('set-cookie')).toBeNull();
  });

  it('only one of the two Access vars set closes the console (500 naming the var)', async () => {
    const res = await admin.request(`${ORIGIN}/admin/`, {}, { ...tokenEnv, ACCESS_TEAM_DOMAIN: mode.teamDomain });
    expect(res.status).toBe(500);
    expect(await res.text()).toContain('ACCESS_AUD');
  });
});
