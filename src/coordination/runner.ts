import type { AuthRequest } from '@duo-edge/contract/wire';
import { type AuthDecision, decideAuth } from '../decision/auth.ts';
import { type EdgeContextOptions, edgeServicesFactory } from '../middleware/edge-context.ts';

/** What the gate asks the edge to do once it lets a login through: the Duo auth call and its mapping. */
export interface AuthJob {
  site: string;
  request: AuthRequest;
}

let services = edgeServicesFactory();

/**
 * The Duo call runs inside the Durable Object (a closure cannot cross the RPC boundary, and only
 * the object can hold the in-flight promise others join), so the object builds the same services
 * as the routes from its own env. Tests and the benchmark substitute an in-process Duo here, as
 * they do for the app (the object lives in the same isolate there).
 */
export function configureGate(options: EdgeContextOptions): void {
  services = edgeServicesFactory(options);
}

export async function runAuth(env: Env, job: AuthJob): Promise<AuthDecision> {
  const edge = await services(env);
  const site = edge.ok ? edge.value.sites.site(job.site) : undefined;
  // The worker validated both before calling; only a config change in between lands here.
  if (!edge.ok || !site) throw new Error('coordination: edge configuration invalid or site unknown');
  return decideAuth({ duo: edge.value.duo(site), site, now: edge.value.now }, job.request);
}
