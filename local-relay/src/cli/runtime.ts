import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '../config/errors.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { RelayConfig } from '../config/schema.ts';
import { flowOptionsOf, listenAddresses } from '../config/server-sections.ts';
import { CircuitBreaker } from '../edge/breaker.ts';
import { createEdgeClient, type EdgeClient, type EdgeClientOptions } from '../edge/client.ts';
import { startHealthProbe } from '../edge/health-probe.ts';
import { loadEdgePublicKey, loadIdentity } from '../edge/identity.ts';
import { createSitePolicyStore, type SitePolicyStore } from '../edge/site-policy.ts';
import { ChallengeStore, createFlow, type DecisionHook, type FlowDeps } from '../flow/index.ts';
import { createPrimary, type Primary } from '../primary/index.ts';
import { type BoundAddress, createRadiusServer, type ListenerSpec, type RadiusServer } from '../server/index.ts';

/**
 * Wires one running relay: config → primary → flows → edge client → RADIUS server. Used by
 * `duo-relay start` and by tests that want the real thing in-process.
 */
export interface RelayRuntime {
  addresses: BoundAddress[];
  server: RadiusServer;
  edge: EdgeClient;
  breaker: CircuitBreaker;
  policy: SitePolicyStore;
  /** Re-reads the config file; on any error keeps the running config and says why. */
  reload(): Promise<{ ok: true } | { ok: false; error: string }>;
  stop(graceMs?: number): Promise<void>;
}

export interface RuntimeOptions {
  logger: Logger;
  /** Seam for the auth-event log, metrics (issue 6) and the offline journal (issue 5). */
  onDecision?: DecisionHook;
  fetch?: EdgeClientOptions['fetch'];
  onEdgeCall?: EdgeClientOptions['onCall'];
  /** Re-reads and validates the config (reload); defaults to the file the relay started with. */
  loadConfig?: () => Promise<LoadedConfig>;
}

export const POLICY_FILE = 'site-policy.json';

export async function startRelay(loaded: LoadedConfig, opts: RuntimeOptions): Promise<RelayRuntime> {
  const { config, file } = loaded;
  const log = opts.logger;
  for (const w of loaded.warnings) log.warn(w);

  const identity = await loadIdentity(config.relay.site, config.relay.key_file);
  if ('error' in identity) throw new ConfigError(file, [{ path: 'relay.key_file', message: identity.error }]);
  const edgeKey = await loadEdgePublicKey(config.edge.public_key);
  if ('error' in edgeKey) throw new ConfigError(file, [{ path: 'edge.public_key', message: edgeKey.error }]);
  try {
    await mkdir(config.relay.state_dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ConfigError(file, [
      { path: 'relay.state_dir', message: `cannot create: ${(error as NodeJS.ErrnoException).code ?? error}` },
    ]);
  }

  const breaker = new CircuitBreaker({
    threshold: config.edge.breaker_threshold,
    onChange: (state) =>
      state === 'open'
        ? log.warn('edge unreachable: circuit breaker open, local failmode applies')
        : log.info('circuit breaker closed'),
  });
  const edge = createEdgeClient({
    urls: config.edge.urls,
    identity,
    edgePublicKey: edgeKey,
    preauthTimeoutMs: config.edge.preauth_timeout_ms,
    authTimeoutMs: config.edge.auth_timeout_ms,
    breaker,
    logger: log,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.onEdgeCall ? { onCall: opts.onEdgeCall } : {}),
  });
  const policy = createSitePolicyStore({
    site: config.relay.site,
    file: join(config.relay.state_dir, POLICY_FILE),
    configFailmode: config.relay.failmode,
    client: edge,
    refreshMs: config.edge.site_refresh_ms,
    logger: log,
  });
  await policy.load();

  let current = config;
  let primary = await createPrimary(config.primary, { logger: log });
  const challenges = new ChallengeStore();
  const depsFor = (p: Primary): FlowDeps => ({
    primary: p,
    edge,
    policy,
    challenges,
    logger: log.child({ component: 'flow' }),
    ...(opts.onDecision ? { onDecision: opts.onDecision } : {}),
  });

  const server = createRadiusServer({ listeners: listenersOf(config, depsFor(primary)), logger: log });
  const addresses = await server.start();
  const probe = startHealthProbe({ breaker, client: edge, intervalMs: config.edge.probe_interval_ms, logger: log });
  policy.start();
  void policy.refresh();
  log.info({ site: config.relay.site, publicKey: identity.publicKey, addresses }, 'duo-relay started');

  return {
    addresses,
    server,
    edge,
    breaker,
    policy,

    async reload() {
      let next: RelayConfig;
      let nextPrimary: Primary;
      try {
        const reloaded = await (opts.loadConfig ?? (() => Promise.reject(new Error('no config loader'))))();
        next = reloaded.config;
        for (const w of reloaded.warnings) log.warn(w);
        nextPrimary = await createPrimary(next.primary, { logger: log });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log.error({ error: message }, 'reload failed; keeping the running configuration');
        return { ok: false, error: message };
      }
      for (const key of restartOnly(current, next)) log.warn({ key }, 'changed setting needs a restart to apply');
      const old = primary;
      primary = nextPrimary;
      current = next;
      server.reload(listenersOf(next, depsFor(nextPrimary)));
      // Logins already past the swap still hold the old primary: close it once they had time to end.
      if (old.close) setTimeout(() => void old.close?.(), next.relay.shutdown_grace_ms).unref();
      log.info('configuration reloaded');
      return { ok: true };
    },

    async stop(graceMs = current.relay.shutdown_grace_ms) {
      probe.stop();
      policy.stop();
      await server.stop(graceMs);
      await primary.close?.();
      log.info('duo-relay stopped');
    },
  };
}

function listenersOf(config: RelayConfig, deps: FlowDeps): ListenerSpec[] {
  const byAddress = new Map<string, ListenerSpec>();
  for (const section of config.server) {
    const flow = createFlow(flowOptionsOf(section), deps);
    for (const { host, port } of listenAddresses(section)) {
      const key = `${host}|${port}`;
      let listener = byAddress.get(key);
      if (!listener) {
        listener = { host, port, clients: [] };
        byAddress.set(key, listener);
      }
      for (const c of section.client) {
        listener.clients.push({
          name: c.name,
          cidr: c.ip,
          secret: new TextEncoder().encode(c.secret),
          requireMessageAuthenticator: c.require_message_authenticator,
          limitProxyState: c.limit_proxy_state,
          flow,
        });
      }
    }
  }
  return [...byAddress.values()];
}

/** Settings bound at start (sockets, keys, edge connection); reload logs them instead of applying. */
function restartOnly(a: RelayConfig, b: RelayConfig): string[] {
  const out: string[] = [];
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  if (!same(a.relay.site, b.relay.site)) out.push('relay.site');
  if (!same(a.relay.key_file, b.relay.key_file)) out.push('relay.key_file');
  if (!same(a.relay.state_dir, b.relay.state_dir)) out.push('relay.state_dir');
  if (!same(a.relay.failmode, b.relay.failmode)) out.push('relay.failmode');
  if (!same(a.edge, b.edge)) out.push('edge');
  if (!same(a.log, b.log)) out.push('log');
  const listens = (c: RelayConfig) => c.server.flatMap((s) => s.listen).sort();
  if (!same(listens(a), listens(b))) out.push('server[].listen');
  return out;
}
