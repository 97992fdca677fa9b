import { preauthRequestSchema } from '@duo-edge/contract/wire';
import { Hono } from 'hono';
import { overrideReason, siteOverrideLookup } from '../admin/override/lookup.ts';
import { preauthRecord } from '../decision/audit-hook.ts';
import { decidePreauth } from '../decision/preauth.ts';
import { record } from '../decision/record.ts';
import type { RelayEnv } from '../edge/relay-env.ts';
import { jsonBody } from '../middleware/json-body.ts';

export const preauthRoute = new Hono<RelayEnv>().post('/v1/preauth', jsonBody(preauthRequestSchema), async (c) => {
  const { edge, site } = c.var;
  const req = c.req.valid('json');
  const startedAt = edge.now();
  const override = siteOverrideLookup(c.env.AUDIT_DB, site.id, edge.now);
  const decision = await decidePreauth({ duo: edge.duo(site), site, now: edge.now, override }, req);
  await record(c, 'preauth', decision.duoError, (meta) => {
    const rec = preauthRecord({ ...meta, startedAt }, req, decision.response);
    return rec && decision.override ? { ...rec, reason: overrideReason(rec.reason, decision.override) } : rec;
  });
  return c.json(decision.response);
});
