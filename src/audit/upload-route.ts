import { type AuditUploadResponse, auditUploadRequestSchema } from '@duo-edge/contract/audit';
import { Hono } from 'hono';
import type { RelayEnv } from '../edge/relay-env.ts';
import { logEvent } from '../log.ts';
import { jsonBody } from '../middleware/json-body.ts';
import { retentionDays } from './retention.ts';
import { recordDecisions } from './store.ts';
import { recordTimeRefusal } from './time-bounds.ts';

/**
 * `POST /v1/audit` (behind relay auth): a relay uploads the decisions it made while the edge was
 * unreachable. Site and relay come from the authenticated key, so a relay can only write its own
 * site's log, and the body schema admits relay-local sources only. A record whose time this relay
 * could not have written (time-bounds.ts) is refused on its own, with the reason, and not stored.
 */
export const auditUploadRoute = new Hono<RelayEnv>().post(
  '/v1/audit',
  jsonBody(auditUploadRequestSchema),
  async (c) => {
    const { records } = c.req.valid('json');
    const site = c.var.site.id;
    const relay = c.var.relayKey;
    const bounds = {
      now: Date.now(),
      keyAdded: c.var.site.relayKeys.get(relay)?.added,
      retentionDays: retentionDays(c.env.AUDIT_RETENTION_DAYS),
    };
    const refused: AuditUploadResponse['refused'] = [];
    const kept = records.filter((r) => {
      const reason = recordTimeRefusal(r.time, bounds);
      if (reason) refused.push({ id: r.id, reason });
      return reason === undefined;
    });
    if (refused.length > 0) logEvent('warn', 'audit_records_refused', { site, count: refused.length });
    const counts =
      kept.length > 0
        ? await recordDecisions(
            c.env.AUDIT_DB,
            kept.map((r) => ({ ...r, site, relay })),
          )
        : { accepted: 0, duplicates: 0 };
    const body: AuditUploadResponse = { ...counts, refused };
    return c.json(body);
  },
);
