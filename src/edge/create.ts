import { createApp } from '../app.ts';
import { d1Recorder } from '../audit/recorder.ts';
import { runRetention } from '../audit/retention.ts';
import { RelayNonces } from '../coordination/relay-nonces.ts';
import { authRunner } from '../coordination/runner.ts';
import { userGateClass } from '../coordination/user-gate.ts';
import { duoReachability } from '../duo/reachability.ts';
import { sitesLoader } from '../sites/load.ts';
import { type EdgeServicesOptions, edgeServicesFactory } from './services.ts';

/** Production uses the defaults; tests and the benchmark substitute a Duo, a recorder or a clock. */
export type EdgeOptions = EdgeServicesOptions;

/**
 * The whole edge for one isolate: the Worker handlers and the Durable Object classes, sharing one
 * set of per-isolate state (the parsed sites config, the validated services with their Duo clients,
 * the Duo reachability answer, the imported relay keys). Nothing is kept at module level.
 */
export function createEdge(options: EdgeOptions = {}) {
  const loadSites = sitesLoader();
  // Every decision goes to the D1 audit log unless a test substitutes a recorder.
  const services = edgeServicesFactory(loadSites, { recorder: (env) => d1Recorder(env.AUDIT_DB), ...options });
  const app = createApp({
    services,
    loadSites,
    duoReachability: duoReachability(),
    ...(options.now ? { now: options.now } : {}),
  });
  const worker = {
    fetch: app.fetch,
    scheduled: (_controller, env, ctx) => ctx.waitUntil(runRetention(env, Date.now())),
  } satisfies ExportedHandler<Env>;
  return { app, worker, UserGate: userGateClass(authRunner(services)), RelayNonces };
}
