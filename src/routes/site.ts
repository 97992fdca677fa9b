import { Hono } from 'hono';
import type { RelayEnv } from '../edge/relay-env.ts';
import { sitePolicy } from '../sites/policy.ts';

/** The calling relay's own site policy; a relay can only ever see its own site. */
export const siteRoute = new Hono<RelayEnv>().get('/v1/site', async (c) =>
  c.json(await sitePolicy(c.var.site, c.var.edge.now())),
);
