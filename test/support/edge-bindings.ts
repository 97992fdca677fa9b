import type { SitesConfigInput } from '../../src/sites/schema.ts';
import { EDGE_KEY, RELAY_A_KEY, RELAY_A_REVOKED_KEY, RELAY_B_KEY, RELAY_C_KEY } from './keys.ts';

/** The demo Duo integration (README, "The local stack"); the emulator knows it. */
export const DEMO_INTEGRATION_CONFIG = {
  ikey: 'DIDEMOINTEGRATION000',
  skey: 'demoSecretKeyDemoSecretKeyDemoSecretKey0',
  api_host: 'api-demo.duosecurity.com',
} as const;

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** A user whom site-a exempts from 2FA (no Duo call at all). */
export const EXEMPT_USER = 'svc-monitor';

export interface EdgeBindingOptions {
  /**
   * `test` (default): short Duo deadlines so hang faults end quickly (above the emulator's 2 s
   * push timeout). `production`: the defaults (preauth 10 s, auth 65 s), for a human pressing a push.
   */
  deadlines?: 'test' | 'production';
}

/** Limits high enough that suites exercising Duo paths never trip them; site-c tests them. */
const UNLIMITED = { push_per_window: 10_000, passcode_failures_per_window: 10_000, window_seconds: 600 };

/** site-c's tight limits, for the push-fatigue tests through the real route. */
export const SITE_C_LIMITS = { push_per_window: 2, passcode_failures_per_window: 2, window_seconds: 600 };

/**
 * site-a: failmode safe, one active and one revoked key, an exempt user, async push.
 * site-b: failmode secure, its own key (bare string form), blocking push.
 * site-c: failmode secure, tight push/passcode limits.
 */
export function testSitesConfig(options: EdgeBindingOptions = {}): SitesConfigInput {
  const deadlines =
    (options.deadlines ?? 'test') === 'test' ? { preauth_deadline_ms: 1_500, auth_deadline_ms: 5_000 } : {};
  return {
    integrations: { demo: DEMO_INTEGRATION_CONFIG },
    sites: {
      'site-a': {
        integration: 'demo',
        failmode: 'safe',
        relay_keys: [
          { key: RELAY_A_KEY.publicKey, name: 'relay-a1' },
          { key: RELAY_A_REVOKED_KEY.publicKey, name: 'relay-a0', revoked: true },
        ],
        exempt_usernames: [EXEMPT_USER],
        limits: UNLIMITED,
        options: deadlines,
      },
      'site-b': {
        integration: 'demo',
        failmode: 'secure',
        relay_keys: [RELAY_B_KEY.publicKey],
        factors: ['push', 'passcode'],
        limits: UNLIMITED,
        // Blocking auth here, async polling on site-a: both Duo call paths stay covered.
        options: { ...deadlines, push_async: false },
      },
      'site-c': {
        integration: 'demo',
        failmode: 'secure',
        relay_keys: [RELAY_C_KEY.publicKey],
        limits: SITE_C_LIMITS,
        options: deadlines,
      },
    },
  };
}

export interface EdgeSecretsAndVars {
  DUO_API_BASE_URL: string;
  SITES_CONFIG: string;
  EDGE_SIGNING_KEY: string;
  ADMIN_TOKEN: string;
}

/** Worker bindings for tests, the e2e harness and the local stack. */
export function edgeTestBindings(duoBaseUrl: string, options: EdgeBindingOptions = {}): EdgeSecretsAndVars {
  return {
    DUO_API_BASE_URL: duoBaseUrl,
    SITES_CONFIG: JSON.stringify(testSitesConfig(options)),
    EDGE_SIGNING_KEY: EDGE_KEY.privateKeyPem,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  };
}
