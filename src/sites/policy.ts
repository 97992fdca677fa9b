import { sha256Hex } from '@duo-edge/contract/encoding';
import type { SitePolicy } from '@duo-edge/contract/wire';
import type { ResolvedSite } from './load.ts';

/**
 * Changes whenever anything in the site's entry changes (failmode, factors, limits, keys), so a
 * relay polling GET /v1/site can tell a new policy from the one it holds. One SHA-256 of a small
 * document per poll: cheap enough not to keep.
 */
async function policyVersion(site: ResolvedSite): Promise<string> {
  return (await sha256Hex(JSON.stringify([site.id, site.integrationName, site.config]))).slice(0, 16);
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
