import type { MiddlewareHandler } from 'hono';
import { connectionClosed, duoFail, type EmulatorEnv } from './env.ts';
import type { EmulatorState, Endpoint } from './state.ts';

/** Applies the fault set for this endpoint (POST /_emulator/faults) before Duo would look at the request. */
export function injectFaults(state: EmulatorState, endpoint: Endpoint): MiddlewareHandler<EmulatorEnv> {
  return async function injectFaults(c, next) {
    const spec = state.faults.get(endpoint);
    if (!spec) return next();
    if (spec.delay_ms) await new Promise((r) => setTimeout(r, spec.delay_ms));
    switch (spec.fault) {
      case 'ok':
        return next();
      case '5xx':
        return duoFail(c, 500, 50000, 'Internal server error');
      case '4xx':
        return duoFail(c, 400, 40002, 'Invalid request parameters');
      case '429':
        return duoFail(c, 429, 42901, 'Too Many Requests');
      case 'malformed':
        return c.json({ stat: 'OK', response: {} });
      case 'not_json':
        return c.html('<html><body><h1>502 Bad Gateway</h1></body></html>');
      case 'reset':
        c.env?.incoming?.socket.destroy();
        await connectionClosed(c);
        return c.body(null);
      case 'hang':
        await connectionClosed(c);
        return c.body(null);
    }
  };
}
