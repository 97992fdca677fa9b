import { Hono } from 'hono';
import { authRecord } from '../decision/audit-hook.ts';
import { decideAuth } from '../decision/auth.ts';
import { jsonBody } from '../middleware/json-body.ts';
import { authRequestSchema } from '../wire/schemas.ts';
import type { RelayEnv } from './env.ts';
import { record } from './record.ts';

export const authRoute = new Hono<RelayEnv>().post('/v1/auth', jsonBody(authRequestSchema), async (c) => {
  const { edge, site } = c.var;
  const req = c.req.valid('json');
  const startedAt = edge.now();
  const decision = await decideAuth({ duo: edge.duo(site), site, now: edge.now }, req);
  await record(c, 'auth', decision.duoError, (meta) => authRecord({ ...meta, startedAt }, req, decision.response));
  return c.json(decision.response);
});
