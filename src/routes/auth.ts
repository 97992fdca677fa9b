import { authRequestSchema } from '@duo-edge/contract/wire';
import { Hono } from 'hono';
import { gateAuth } from '../coordination/gate-auth.ts';
import { authRecord } from '../decision/audit-hook.ts';
import { record } from '../decision/record.ts';
import type { RelayEnv } from '../edge/relay-env.ts';
import { jsonBody } from '../middleware/json-body.ts';
import { replayed } from '../middleware/replay-guard.ts';

export const authRoute = new Hono<RelayEnv>().post('/v1/auth', jsonBody(authRequestSchema), async (c) => {
  const { edge, site } = c.var;
  const req = c.req.valid('json');
  const startedAt = edge.now();
  // Through the user's Durable Object: refuses a replayed request, joins the same login in flight,
  // enforces the push limits.
  const gated = await gateAuth(
    c.env.USER_GATE,
    { site: site.id, relayKey: c.var.relayKey, nonce: c.var.nonce },
    req,
    site.limits,
  );
  if (!gated.ok) return replayed(c.req.path, site.id);
  const decision = gated.value;
  await record(c, 'auth', decision.duoError, (meta) => authRecord({ ...meta, startedAt }, req, decision.response));
  return c.json(decision.response);
});
