import { exports } from 'cloudflare:workers';
import { sitePolicySchema } from '@duo-edge/contract/wire';
import { describe, expect, it } from 'vitest';
import { EXEMPT_USER } from '../support/edge-bindings.ts';
import { RELAY_A_KEY, RELAY_B_KEY } from '../support/keys.ts';
import { relayClient } from '../support/relay-signer.ts';

const fetchEdge = (r: Request) => exports.default.fetch(r);
const siteA = relayClient({ fetch: fetchEdge, baseUrl: 'https://edge.test', site: 'site-a', key: RELAY_A_KEY });
const siteB = relayClient({ fetch: fetchEdge, baseUrl: 'https://edge.test', site: 'site-b', key: RELAY_B_KEY });

describe('GET /v1/site', () => {
  it("returns the calling relay's own policy, factor defaults filled in", async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await siteA.site();
    expect(res.status).toBe(200);
    const policy = sitePolicySchema.parse(res.json);
    expect(policy).toMatchObject({
      site: 'site-a',
      failmode: 'safe',
      factors: ['auto'],
      exempt_usernames: [EXEMPT_USER],
      limits: { push_per_window: 10_000, passcode_failures_per_window: 10_000, window_seconds: 600 },
      // site-a sets test deadlines; the rest are the defaults.
      options: {
        duo_only_failopen_acknowledged: false,
        push_async: true,
        preauth_deadline_ms: 1_500,
        auth_deadline_ms: 5_000,
      },
    });
    expect(policy.edge_time).toBeGreaterThanOrEqual(before);
    expect(policy.version).toMatch(/^[0-9a-f]{16}$/);
  });

  it('each site sees its own failmode and factors', async () => {
    const policy = sitePolicySchema.parse((await siteB.site()).json);
    expect(policy).toMatchObject({
      site: 'site-b',
      failmode: 'secure',
      factors: ['push', 'passcode'],
      exempt_usernames: [],
    });
  });

  it('the version is stable while the config is unchanged and differs between sites', async () => {
    const a1 = sitePolicySchema.parse((await siteA.site()).json).version;
    const a2 = sitePolicySchema.parse((await siteA.site()).json).version;
    const b = sitePolicySchema.parse((await siteB.site()).json).version;
    expect(a1).toBe(a2);
    expect(a1).not.toBe(b);
  });

  it('never carries Duo secrets or relay keys', async () => {
    const text = new TextDecoder().decode((await siteA.site()).bytes);
    expect(text).not.toMatch(/DIDEMO|demoSecret|api-demo|relay_keys/);
    expect(text).not.toContain(RELAY_A_KEY.publicKey);
  });
});
