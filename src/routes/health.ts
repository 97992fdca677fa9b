import { Hono } from 'hono';
import pkg from '../../package.json' with { type: 'json' };
import type { HealthResponse } from '../wire/schemas.ts';
import { duoReachability } from './duo-reachability.ts';
import type { PublicEnv } from './env.ts';

/** Unauthenticated liveness: no site, key or config detail, only whether Duo answers. */
export function healthRoute() {
  const duo = duoReachability();
  return new Hono<PublicEnv>().get('/v1/health', async (c) => {
    const body: HealthResponse = { ok: true, version: pkg.version, duo: await duo(c.var.edge) };
    return c.json(body, 200, { 'cache-control': 'no-store' });
  });
}
