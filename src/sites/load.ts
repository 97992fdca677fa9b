import type { DuoIntegration } from '../duo/api.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { type SiteConfig, type SiteOptions, sitesConfigSchema } from './schema.ts';

/** A site with its integration and keys resolved, as the request path uses it. */
export interface ResolvedSite {
  id: string;
  integrationName: string;
  integration: DuoIntegration;
  failmode: SiteConfig['failmode'];
  factors: SiteConfig['factors'];
  exemptUsernames: ReadonlySet<string>;
  limits: SiteConfig['limits'];
  options: SiteOptions;
  /** Keyed by canonical base64url public key (what x-duo-edge-key carries). */
  relayKeys: ReadonlyMap<string, { name?: string; revoked: boolean }>;
  /** The validated entry as configured, for the policy version. */
  config: SiteConfig;
}

export interface Sites {
  site(id: string): ResolvedSite | undefined;
  /** Every configured site, in config order. */
  all(): ResolvedSite[];
  integrations: ReadonlyMap<string, DuoIntegration>;
}

/** Where the config is wrong, never what it contains: the document holds Duo secret keys. */
export type SitesConfigError = { kind: 'not_json' } | { kind: 'invalid'; path: string; code: string };

let cache: { raw: string; result: Result<Sites, SitesConfigError> } | undefined;

/** Parsed once per isolate; a new secret value (new deployment) is a new string, so it re-parses. */
export function loadSites(raw: string): Result<Sites, SitesConfigError> {
  if (cache?.raw !== raw) cache = { raw, result: parseSites(raw) };
  return cache.result;
}

export function parseSites(raw: string): Result<Sites, SitesConfigError> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // The SyntaxError message quotes the input; it must not travel anywhere.
    return err({ kind: 'not_json' });
  }
  const parsed = sitesConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return err({ kind: 'invalid', path: issue?.path.join('.') ?? '', code: issue?.code ?? 'invalid' });
  }
  const integrations = new Map<string, DuoIntegration>(
    Object.entries(parsed.data.integrations).map(([name, i]) => [
      name,
      { ikey: i.ikey, skey: i.skey, apiHost: i.api_host.toLowerCase() },
    ]),
  );
  const sites = new Map<string, ResolvedSite>();
  for (const [id, s] of Object.entries(parsed.data.sites)) {
    const integration = integrations.get(s.integration);
    // The schema already refused unknown integrations; this keeps the types honest.
    if (!integration) return err({ kind: 'invalid', path: `sites.${id}.integration`, code: 'custom' });
    const relayKeys = new Map<string, { name?: string; revoked: boolean }>();
    for (const k of s.relay_keys) {
      // A key listed twice stays revoked if any listing revokes it.
      const revoked = k.revoked || (relayKeys.get(k.key)?.revoked ?? false);
      relayKeys.set(k.key, { ...('name' in k && k.name ? { name: k.name } : {}), revoked });
    }
    sites.set(id, {
      id,
      integrationName: s.integration,
      integration,
      failmode: s.failmode,
      factors: s.factors,
      exemptUsernames: new Set(s.exempt_usernames),
      limits: s.limits,
      options: s.options,
      relayKeys,
      config: s,
    });
  }
  return ok({ site: (id) => sites.get(id), all: () => [...sites.values()], integrations });
}
