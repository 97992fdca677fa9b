import { Hono } from 'hono';
import { jsonBody } from '../middleware/json-body.ts';
import type { RelayEnv } from '../routes/env.ts';
import { type AuditUploadResponse, auditUploadRequestSchema } from './schemas.ts';
import { recordDecisions } from './store.ts';

/**
 * `POST /v1/audit` (behind relay auth): a relay uploads the decisions it made while the edge was
 * unreachable. Site and relay come from the authenticated key, so a relay can only write its own
 * site's log, and the body schema admits relay-local sources only.
 */
export const auditUploadRoute = new Hono<RelayEnv>().post(
  '/v1/audit',
  jsonBody(auditUploadRequestSchema),
  async (c) => {
    const { records } = c.req.valid('json');
    const site = c.var.site.id;
    const relay = c.var.relayKey;
    const counts: AuditUploadResponse = await recordDecisions(
      c.env.AUDIT_DB,
      records.map((r) => ({ ...r, site, relay })),
    );
    return c.json(counts);
  },
);
