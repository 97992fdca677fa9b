import { Hono } from 'hono';
import { adminApp } from './admin/app.ts';
import { d1Recorder } from './audit/recorder.ts';
import { auditUploadRoute } from './audit/upload-route.ts';
import { configureGate } from './coordination/runner.ts';
import { signDecisions } from './middleware/decision-signature.ts';
import { type EdgeContextOptions, edgeContext, edgeServicesFactory } from './middleware/edge-context.ts';
import { notFound, onError } from './middleware/errors.ts';
import { relayAuth } from './middleware/relay-auth.ts';
import { replayGuard } from './middleware/replay-guard.ts';
import { heartbeatRoute } from './relays/heartbeat-route.ts';
import { authRoute } from './routes/auth.ts';
import type { RelayEnv } from './routes/env.ts';
import { healthRoute } from './routes/health.ts';
import { preauthRoute } from './routes/preauth.ts';
import { siteRoute } from './routes/site.ts';

export type AppOptions = EdgeContextOptions;

/** Paths a relay calls: each is authenticated, and each 2xx answer is signed. */
export const RELAY_PATHS = ['/v1/preauth', '/v1/auth', '/v1/site', '/v1/audit', '/v1/heartbeat'] as const;

/**
 * The edge API v1. The options exist for tests and the benchmark (an in-process Duo, a decision
 * recorder, a clock); production uses the defaults.
 */
export function createApp(appOptions: AppOptions = {}) {
  // Every decision goes to the D1 audit log unless a test substitutes a recorder.
  const options: AppOptions = { recorder: (env) => d1Recorder(env.AUDIT_DB), ...appOptions };
  // The per-user Durable Object makes the Duo auth call itself, with the same services.
  configureGate(options);
  const services = edgeServicesFactory(options);
  const app = new Hono<RelayEnv>();
  app.onError(onError);
  app.notFound(notFound);
  // Before the context middleware: health answers (ok: false) even when the configuration is not usable.
  app.route('/', healthRoute(services));
  app.use('/v1/*', edgeContext(services));
  const auth = relayAuth(options.now ? { now: options.now } : {});
  const sign = signDecisions();
  const once = replayGuard();
  // /v1/auth checks its nonce in the user's gate object, which it visits anyway (routes/auth.ts).
  for (const path of RELAY_PATHS) {
    app.use(path, auth);
    if (path !== '/v1/auth') app.use(path, once);
    app.use(path, sign);
  }
  return app
    .route('/', preauthRoute)
    .route('/', authRoute)
    .route('/', siteRoute)
    .route('/', auditUploadRoute)
    .route('/', heartbeatRoute)
    .route('/', adminApp);
}

export type AppType = ReturnType<typeof createApp>;
