import type { DecisionRecord } from '@duo-edge/contract/audit';
import { Hono } from 'hono';
import type { RelayEnv } from '../../src/edge/relay-env.ts';
import { parseSites, type ResolvedSite } from '../../src/sites/load.ts';
import { testSitesConfig } from '../support/edge-bindings.ts';

/** Test helpers for the audit/admin/relays suites (not a test file itself). */

let seq = 0;

export function decision(overrides: Partial<DecisionRecord> = {}): DecisionRecord {
  seq += 1;
  return {
    id: `rec-${seq.toString().padStart(6, '0')}-${crypto.randomUUID()}`,
    time: 1_700_000_000_000 + seq,
    site: 'site-a',
    relay: 'relay-1',
    username: 'alice',
    nas_ip: '192.0.2.10',
    nas_identifier: 'vpn-1',
    client_ip: '198.51.100.7',
    stage: 'auth',
    factor: 'push',
    result: 'allow',
    reason: 'Success. Logging you in...',
    source: 'duo',
    latency_ms: 1200,
    ...overrides,
  };
}

/** A real test site (site-a of the test sites config) under another id, so suites do not share rows. */
export function testSite(id: string): ResolvedSite {
  const sites = parseSites(JSON.stringify(testSitesConfig()));
  const siteA = sites.ok ? sites.value.site('site-a') : undefined;
  if (!siteA) throw new Error('test sites config has no site-a');
  return { ...siteA, id };
}

/** Mounts a relay-facing sub-app behind a stand-in for the relay-auth middleware. */
export function asRelay(sub: Hono<RelayEnv>, site: string | ResolvedSite, relayKey: string) {
  const resolved = typeof site === 'string' ? testSite(site) : site;
  return new Hono<RelayEnv>()
    .use(async (c, next) => {
      c.set('site', resolved);
      c.set('relayKey', relayKey);
      await next();
    })
    .route('/', sub);
}

export const jsonPost = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
