import type { MiddlewareHandler } from 'hono';
import { relayNoncesName } from '../coordination/keys.ts';
import type { RelayEnv } from '../edge/relay-env.ts';
import { logEvent } from '../log.ts';
import { errorResponse } from './errors.ts';

/**
 * After relay auth: refuses a (relay key, nonce) already accepted within the replay window with 409
 * `replayed`, so a captured request cannot be played again while its timestamp is still fresh.
 */
export const replayGuard = (): MiddlewareHandler<RelayEnv> =>
  async function replayGuard(c, next) {
    const { site, relayKey, nonce } = c.var;
    const fresh = await c.env.RELAY_NONCES.getByName(relayNoncesName(site.id, relayKey)).claim(relayKey, nonce);
    if (!fresh) return replayed(c.req.path, site.id);
    await next();
  };

/** The one answer to a replay, wherever it was caught. */
export function replayed(path: string, site: string): Response {
  logEvent('warn', 'relay_request_replayed', { path, site });
  return errorResponse('replayed');
}
