import { sha256Hex } from '@duo-edge/contract/encoding';
import type { SitePolicy } from '@duo-edge/contract/wire';
import type { ResolvedSite } from './load.ts';

const versions = new WeakMap<ResolvedSite, Promise<string>>();

/**
 * Changes whenever anything in the site's entry changes (failmode, factors, limits, keys), so a
 * relay polling GET /v1/site can tell a new policy from the one it holds.
 */
export function policyVersion(site: ResolvedSite): Promise<string> {
  let v = versions.get(site);
  if (!v) {
    v = sha256Hex(JSON.stringify([site.id, site.integrationName, site.config])).then((h) => h.slice(0, 16));
    versions.set(site, v);
  }
  return v;
}

export async function sitePolicy(site: ResolvedSite, nowMs: number): Promise<SitePolicy> {
  return {
    site: site.id,
    version: await policyVersion(site),
    failmode: site.failmode,
    factors: site.factors,
    exempt_usernames: [...site.exemptUsernames],
    limits: site.limits,
    options: site.config.options,
    edge_time: Math.floor(nowMs / 1000),
  };
}
