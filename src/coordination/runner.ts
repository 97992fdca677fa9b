import type { AuthRequest } from '@duo-edge/contract/wire';
import { type AuthDecision, decideAuth } from '../decision/auth.ts';
import type { EdgeServicesFactory } from '../edge/services.ts';

/** What the gate asks the edge to do once it lets a login through: the Duo auth call and its mapping. */
export interface AuthJob {
  site: string;
  request: AuthRequest;
}

export type AuthRunner = (env: Env, job: AuthJob) => Promise<AuthDecision>;

/**
 * The Duo call runs inside the Durable Object (a closure cannot cross the RPC boundary, and only
 * the object can hold the in-flight promise others join), so the object uses the same services as
 * the routes, resolved from its own env.
 */
export function authRunner(services: EdgeServicesFactory): AuthRunner {
  return async function runAuth(env, job) {
    const edge = await services(env);
    const site = edge.ok ? edge.value.sites.site(job.site) : undefined;
    // The worker validated both before calling; only a config change in between lands here.
    if (!edge.ok || !site) throw new Error('coordination: edge configuration invalid or site unknown');
    return decideAuth({ duo: edge.value.duo(site), site, now: edge.value.now }, job.request);
  };
}
