import type { HealthResponse } from '@duo-edge/contract/wire';
import { Hono } from 'hono';
import pkg from '../../package.json' with { type: 'json' };
import type { Reachability } from '../duo/reachability.ts';
import type { EdgeServices, EdgeServicesFactory } from '../edge/services.ts';

/**
 * Unauthenticated liveness: no site, key or config detail, only whether the configuration is
 * usable and Duo answers. An invalid configuration is `ok: false` with a 200: the edge is up and
 * answering (relays refuse logins on its 403s), which is what a liveness probe asks.
 */
export function healthRoute(services: EdgeServicesFactory, duo: (edge: EdgeServices) => Promise<Reachability>) {
  return new Hono<{ Bindings: Env }>().get('/v1/health', async (c) => {
    const edge = await services(c.env);
    const body: HealthResponse = edge.ok
      ? { ok: edge.value.sites.problems.length === 0, version: pkg.version, duo: await duo(edge.value) }
      : { ok: false, version: pkg.version, duo: { reachable: null, checked_at: null } };
    return c.json(body, 200, { 'cache-control': 'no-store' });
  });
}
