import { Hono } from 'hono';
import { gateAuth } from '../coordination/gate-auth.ts';
import { authRecord } from '../decision/audit-hook.ts';
import { jsonBody } from '../middleware/json-body.ts';
import { authRequestSchema } from '../wire/schemas.ts';
import type { RelayEnv } from './env.ts';
import { record } from './record.ts';

export const authRoute = new Hono<RelayEnv>().post('/v1/auth', jsonBody(authRequestSchema), async (c) => {
  const { edge, site } = c.var;
  const req = c.req.valid('json');
  const startedAt = edge.now();
  // Through the user's Durable Object: joins an identical in-flight login, enforces the push limits.
  const decision = await gateAuth(c.env.USER_GATE, site.id, req, site.limits);
  await record(c, 'auth', decision.duoError, (meta) => authRecord({ ...meta, startedAt }, req, decision.response));
  return c.json(decision.response);
});
