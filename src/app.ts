import { Hono } from 'hono';
import { adminApp } from './admin/app.ts';
import { auditUploadRoute } from './audit/upload-route.ts';
import type { Reachability } from './duo/reachability.ts';
import type { RelayEnv } from './edge/relay-env.ts';
import type { EdgeServices, EdgeServicesFactory } from './edge/services.ts';
import { signDecisions } from './middleware/decision-signature.ts';
import { edgeContext } from './middleware/edge-context.ts';
import { notFound, onError } from './middleware/errors.ts';
import { relayAuth } from './middleware/relay-auth.ts';
import { replayGuard } from './middleware/replay-guard.ts';
import { heartbeatRoute } from './relays/heartbeat-route.ts';
import { authRoute } from './routes/auth.ts';
import { healthRoute } from './routes/health.ts';
import { preauthRoute } from './routes/preauth.ts';
import { siteRoute } from './routes/site.ts';
import type { SitesLoader } from './sites/load.ts';

/** Paths a relay calls: each is authenticated, and each 2xx answer is signed. */
export const RELAY_PATHS = ['/v1/preauth', '/v1/auth', '/v1/site', '/v1/audit', '/v1/heartbeat'] as const;

/** What the app is built from: the per-isolate state that createEdge owns. */
export interface AppParts {
  services: EdgeServicesFactory;
  loadSites: SitesLoader;
  duoReachability: (edge: EdgeServices) => Promise<Reachability>;
  /** Epoch ms; relay auth checks timestamps against it. */
  now?: () => number;
}

/** The edge API v1 and the admin app. */
export function createApp({ services, loadSites, duoReachability, now }: AppParts) {
  const app = new Hono<RelayEnv>();
  app.onError(onError);
  app.notFound(notFound);
  // Before the context middleware: health answers (ok: false) even when the configuration is not usable.
  app.route('/', healthRoute(services, duoReachability));
  app.use('/v1/*', edgeContext(services));
  const auth = relayAuth(now ? { now } : {});
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
    .route('/', adminApp(loadSites));
}
