import { importPrivateKeyPem, type Key } from '@duo-edge/contract/ed25519';
import { err, ok, type Result } from '@duo-edge/contract/result';
import { type DecisionRecorder, noopRecorder } from '../decision/audit-hook.ts';
import type { DuoClient, DuoIntegration } from '../duo/api.ts';
import { createDuoClient } from '../duo/client.ts';
import { envSchema } from '../env.ts';
import { logEvent } from '../log.ts';
import type { ResolvedSite, Sites, SitesLoader } from '../sites/load.ts';

/** The validated configuration and the services built from it. */
export interface EdgeServices {
  sites: Sites;
  signingKey: Key;
  duoFor(integration: DuoIntegration): DuoClient;
  duo(site: ResolvedSite): DuoClient;
  recorder: DecisionRecorder;
  /** Epoch ms. */
  now(): number;
}

export interface EdgeServicesOptions {
  /** Builds a Duo client; tests and the benchmark substitute an in-process Duo. */
  createDuo?: (integration: DuoIntegration, baseUrl: string | null) => DuoClient;
  /** The decision recorder for these bindings (the audit log writes to the env's D1). */
  recorder?: (env: Env) => DecisionRecorder;
  now?: () => number;
}

/** An edge-wide setting is unusable (the signing key, or SITES_CONFIG as a whole). */
export type EdgeMisconfigured = 'edge_misconfigured';

type ConfigServices = Omit<EdgeServices, 'recorder'>;

/**
 * Validates the Worker env and SITES_CONFIG (once per isolate per value) and builds the services.
 * A broken site entry only disables that site (sites/load.ts); a broken edge-wide setting is an
 * error. The log names where, never what. Usable outside a request: the user gate object calls Duo
 * with the same services as the routes.
 */
export function edgeServicesFactory(loadSites: SitesLoader, options: EdgeServicesOptions = {}) {
  const createDuo =
    options.createDuo ?? ((integration, baseUrl) => createDuoClient(integration, baseUrl ? { baseUrl } : {}));
  const recorderFor = options.recorder ?? (() => noopRecorder);
  const now = options.now ?? Date.now;
  // The services of the configuration last seen; this isolate's only copy of them.
  let cache: { strings: readonly string[]; services: ConfigServices } | undefined;

  async function resolve(bindings: Env): Promise<Result<ConfigServices, EdgeMisconfigured>> {
    const parsedEnv = envSchema.safeParse(bindings);
    if (!parsedEnv.success) {
      logEvent('error', 'env_invalid', { path: parsedEnv.error.issues[0]?.path.join('.') });
      return err('edge_misconfigured');
    }
    const env = parsedEnv.data;
    const sites = loadSites(env.SITES_CONFIG);
    if (!sites.ok) {
      logEvent('error', 'sites_config_invalid', { ...sites.error });
      return err('edge_misconfigured');
    }
    for (const problem of sites.value.problems) logEvent('error', 'sites_config_entry_invalid', { ...problem });
    const signingKey = await importPrivateKeyPem(env.EDGE_SIGNING_KEY);
    if (!signingKey) {
      logEvent('error', 'env_invalid', { path: 'EDGE_SIGNING_KEY' });
      return err('edge_misconfigured');
    }
    const duoBaseUrl = env.DUO_API_BASE_URL;
    // One client per integration for the life of this config, so its learned Duo clock offset
    // survives across requests; a new config (new values) starts new clients.
    const clients = new WeakMap<DuoIntegration, DuoClient>();
    const duoFor = (integration: DuoIntegration) => {
      let client = clients.get(integration);
      if (!client) {
        client = createDuo(integration, duoBaseUrl);
        clients.set(integration, client);
      }
      return client;
    };
    return ok({ sites: sites.value, signingKey, duoFor, duo: (site) => duoFor(site.integration), now });
  }

  return async function edgeServices(bindings: Env): Promise<Result<EdgeServices, EdgeMisconfigured>> {
    // Validated once per isolate per configuration: the request path only compares strings.
    const strings = [bindings.SITES_CONFIG, bindings.EDGE_SIGNING_KEY, bindings.DUO_API_BASE_URL];
    if (!cache || cache.strings.some((v, i) => v !== strings[i])) {
      const services = await resolve(bindings);
      if (!services.ok) return services;
      cache = { strings, services: services.value };
    }
    return ok({ ...cache.services, recorder: recorderFor(bindings) });
  };
}

export type EdgeServicesFactory = ReturnType<typeof edgeServicesFactory>;
