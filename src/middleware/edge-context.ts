import type { MiddlewareHandler } from 'hono';
import type { EdgeServices, EdgeServicesFactory } from '../edge/services.ts';
import { errorResponse } from './errors.ts';

export type EdgeContextVariables = { edge: EdgeServices };

/**
 * Sets c.var.edge, or refuses with 403 `edge_misconfigured`: a relay treats any 4xx as a refusal
 * (Reject), where a 5xx would read as an outage and let a safe site fail open.
 */
export const edgeContext = (
  services: EdgeServicesFactory,
): MiddlewareHandler<{ Bindings: Env; Variables: EdgeContextVariables }> =>
  async function edgeContext(c, next) {
    const edge = await services(c.env);
    if (!edge.ok) return errorResponse(edge.error);
    c.set('edge', edge.value);
    await next();
  };
