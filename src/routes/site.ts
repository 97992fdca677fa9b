import { Hono } from 'hono';
import { sitePolicy } from '../sites/policy.ts';
import type { RelayEnv } from './env.ts';

/** The calling relay's own site policy; a relay can only ever see its own site. */
export const siteRoute = new Hono<RelayEnv>().get('/v1/site', async (c) =>
  c.json(await sitePolicy(c.var.site, c.var.edge.now())),
);
