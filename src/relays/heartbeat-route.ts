import { heartbeatRequestSchema } from '@duo-edge/contract/heartbeat';
import { Hono } from 'hono';
import type { RelayEnv } from '../edge/relay-env.ts';
import { jsonBody } from '../middleware/json-body.ts';
import { recordHeartbeat } from './store.ts';

/**
 * `POST /v1/heartbeat` (behind relay auth). The relay is identified by its key, never by the body;
 * the key's configured name wins over the one the relay reports.
 */
export const heartbeatRoute = new Hono<RelayEnv>().post(
  '/v1/heartbeat',
  jsonBody(heartbeatRequestSchema),
  async (c) => {
    const now = Date.now();
    const beat = c.req.valid('json');
    const name = c.var.site.relayKeys.get(c.var.relayKey)?.name ?? beat.name;
    await recordHeartbeat(c.env.AUDIT_DB, c.var.site.id, c.var.relayKey, { ...beat, name }, now);
    return c.json({ ok: true as const, edge_time: Math.floor(now / 1000) });
  },
);
