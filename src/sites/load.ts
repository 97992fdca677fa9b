import { err, ok, type Result } from '@duo-edge/contract/result';
import type { z } from 'zod';
import type { DuoIntegration } from '../duo/api.ts';
import {
  entryNameSchema,
  integrationSchema,
  type SiteConfig,
  type SiteOptions,
  siteSchema,
  sitesDocumentSchema,
} from './schema.ts';

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
  relayKeys: ReadonlyMap<string, RelayKeyEntry>;
  /** The validated entry as configured, for the policy version. */
  config: SiteConfig;
}

export interface RelayKeyEntry {
  name?: string;
  revoked: boolean;
  /** Epoch ms the key was added, when the config says. */
  added?: number;
}

/** Where a config problem is (a JSON path) and zod's issue code: never the value, which may be a secret. */
export interface ConfigProblem {
  path: string;
  code: string;
}

export type SiteLookup =
  | { kind: 'ok'; site: ResolvedSite }
  /** The site's entry (or its integration) is invalid: its relays are refused, nobody fails open. */
  | { kind: 'misconfigured'; problem: ConfigProblem }
  | { kind: 'unknown' };

export interface Sites {
  lookup(id: string): SiteLookup;
  /** The site when its entry is valid. */
  site(id: string): ResolvedSite | undefined;
  /** Every valid site, in config order. */
  all(): ResolvedSite[];
  /** Valid integrations only. */
  integrations: ReadonlyMap<string, DuoIntegration>;
  /** Every entry that was refused; empty when the whole document is valid. */
  problems: ReadonlyArray<ConfigProblem>;
}

/** The document itself is unusable (not JSON, not the outer shape): no site can be trusted. */
export type SitesConfigError = { kind: 'not_json' } | ({ kind: 'invalid' } & ConfigProblem);

export type SitesLoader = (raw: string) => Result<Sites, SitesConfigError>;

/**
 * The isolate's parsed sites config, shared by the relay API and the admin app: parsed once; a new
 * secret value (new deployment) is a new string, so it re-parses.
 */
export function sitesLoader(): SitesLoader {
  let last: { raw: string; result: Result<Sites, SitesConfigError> } | undefined;
  return function loadSites(raw) {
    if (last?.raw !== raw) last = { raw, result: parseSites(raw) };
    return last.result;
  };
}

/**
 * Validates the document entry by entry: a broken integration or site disables that site only (and
 * the sites using that integration); every other site is served.
 */
export function parseSites(raw: string): Result<Sites, SitesConfigError> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // The SyntaxError message quotes the input; it must not travel anywhere.
    return err({ kind: 'not_json' });
  }
  const doc = sitesDocumentSchema.safeParse(json);
  if (!doc.success) return err({ kind: 'invalid', ...firstProblem(doc.error, []) });

  const problems: ConfigProblem[] = [];
  const integrations = new Map<string, DuoIntegration>();
  const brokenIntegrations = new Map<string, ConfigProblem>();
  for (const [name, entry] of Object.entries(doc.data.integrations)) {
    const parsed = validEntry(integrationSchema, name, entry, ['integrations', name]);
    if (!parsed.ok) {
      problems.push(parsed.error);
      brokenIntegrations.set(name, parsed.error);
      continue;
    }
    const i = parsed.value;
    integrations.set(name, { ikey: i.ikey, skey: i.skey, apiHost: i.api_host.toLowerCase() });
  }

  const sites = new Map<string, SiteLookup>();
  for (const [id, entry] of Object.entries(doc.data.sites)) {
    const resolved = resolveSite(id, entry, integrations, brokenIntegrations);
    if (!resolved.ok) problems.push(resolved.error);
    sites.set(
      id,
      resolved.ok ? { kind: 'ok', site: resolved.value } : { kind: 'misconfigured', problem: resolved.error },
    );
  }
  const lookup = (id: string): SiteLookup =>
    (Object.hasOwn(doc.data.sites, id) && sites.get(id)) || { kind: 'unknown' };
  return ok({
    lookup,
    site: (id) => {
      const l = lookup(id);
      return l.kind === 'ok' ? l.site : undefined;
    },
    all: () => [...sites.values()].flatMap((l) => (l.kind === 'ok' ? [l.site] : [])),
    integrations,
    problems,
  });
}

function resolveSite(
  id: string,
  entry: unknown,
  integrations: ReadonlyMap<string, DuoIntegration>,
  brokenIntegrations: ReadonlyMap<string, ConfigProblem>,
): Result<ResolvedSite, ConfigProblem> {
  const parsed = validEntry(siteSchema, id, entry, ['sites', id]);
  if (!parsed.ok) return parsed;
  const s = parsed.value;
  const integration = integrations.get(s.integration);
  if (!integration) {
    // A site whose integration is broken is named by the integration's problem: that is what to fix.
    return err(
      brokenIntegrations.get(s.integration) ?? { path: `sites.${id}.integration`, code: 'unknown_integration' },
    );
  }
  const relayKeys = new Map<string, RelayKeyEntry>();
  for (const k of s.relay_keys) {
    const seen = relayKeys.get(k.key);
    const name = 'name' in k && k.name ? k.name : seen?.name;
    const listed = 'added' in k && k.added !== undefined ? Date.parse(k.added) : undefined;
    // A key listed twice stays revoked if any listing revokes it, and counts from its earliest addition.
    const added =
      listed === undefined || seen?.added === undefined ? (listed ?? seen?.added) : Math.min(listed, seen.added);
    relayKeys.set(k.key, {
      ...(name ? { name } : {}),
      revoked: k.revoked || (seen?.revoked ?? false),
      ...(added !== undefined ? { added } : {}),
    });
  }
  return ok({
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

/** One named entry: its name must be a valid name, its content must match `schema`. */
function validEntry<T extends z.ZodType>(
  schema: T,
  name: string,
  entry: unknown,
  at: string[],
): Result<z.output<T>, ConfigProblem> {
  if (!entryNameSchema.safeParse(name).success) return err({ path: at.join('.'), code: 'invalid_name' });
  const parsed = schema.safeParse(entry);
  return parsed.success ? ok(parsed.data) : err(firstProblem(parsed.error, at));
}

function firstProblem(error: z.ZodError, at: string[]): ConfigProblem {
  const issue = error.issues[0];
  return { path: [...at, ...(issue?.path.map(String) ?? [])].join('.'), code: issue?.code ?? 'invalid' };
}
