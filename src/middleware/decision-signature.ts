import { sign } from '@duo-edge/contract/ed25519';
import { decisionMessage, HEADER } from '@duo-edge/contract/signing';
import type { MiddlewareHandler } from 'hono';
import type { EdgeContextVariables } from './edge-context.ts';
import type { RelayAuthVariables } from './relay-auth.ts';

/**
 * Signs every 2xx answer to an authenticated relay request with the edge key, bound to the request
 * path and nonce (the contract's decisionMessage). The relay pins the edge public key, so a
 * TLS-intercepting middlebox can neither forge an allow nor replay one onto another request.
 */
export const signDecisions = (): MiddlewareHandler<{ Variables: EdgeContextVariables & RelayAuthVariables }> =>
  async function signDecisions(c, next) {
    await next();
    const status = c.res.status;
    if (status < 200 || status > 299) return;
    const body = new Uint8Array(await c.res.arrayBuffer());
    const message = await decisionMessage({ path: new URL(c.req.url).pathname, nonce: c.var.nonce, body });
    const headers = new Headers(c.res.headers);
    headers.set(HEADER.decisionSignature, await sign(c.var.edge.signingKey, message));
    headers.set('cache-control', 'no-store');
    // Cleared first so Hono does not merge the old headers back in.
    c.res = undefined;
    c.res = new Response(body, { status, headers });
  };
