import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { listDecisions } from '../audit/store.ts';
import { adminTokenSchema } from '../env.ts';
import { errorResponse } from '../middleware/errors.ts';
import { validated } from '../middleware/json-body.ts';
import { listRelays } from '../relays/store.ts';
import type { SitesLoader } from '../sites/load.ts';
import { consoleApp } from './console/app.tsx';
import { type AdminEnv, TOKEN_ACTOR } from './env.ts';
import { overrideApi } from './override/api.ts';
import { decisionsQuerySchema } from './query.ts';
import { tokenMatches } from './token.ts';

const unauthorized = () => errorResponse('unauthorized');

/**
 * Admin API (`/admin/v1/*`, bearer token = the ADMIN_TOKEN secret) and the console (`/admin/`).
 * With no token configured (or one too short to be safe) neither exists (404), so a forgotten
 * secret never means "open".
 */
export const adminApp = (loadSites: SitesLoader) =>
  new Hono<AdminEnv>()
    .use('/admin/*', async function adminEnabled(c, next) {
      // Too short to be safe counts as not configured; only /admin is affected, never logins.
      if (!adminTokenSchema.safeParse(c.env.ADMIN_TOKEN).data) return errorResponse('not_found');
      const sites = loadSites(c.env.SITES_CONFIG);
      c.set('sites', sites.ok ? sites.value : null);
      await next();
      // Audit data must not sit in any cache on the way.
      c.header('cache-control', 'no-store');
    })
    .use(
      '/admin/v1/*',
      bearerAuth<AdminEnv>({
        verifyToken: (token, c) => tokenMatches(token, c.env.ADMIN_TOKEN),
        noAuthenticationHeader: { message: unauthorized },
        invalidAuthenticationHeader: { message: unauthorized },
        invalidToken: { message: unauthorized },
      }),
      async function tokenActor(c, next) {
        c.set('actor', TOKEN_ACTOR);
        await next();
      },
    )
    .get('/admin/v1/decisions', validated('query', decisionsQuerySchema), async (c) => {
      const { limit, cursor, ...filters } = c.req.valid('query');
      const page = await listDecisions(c.env.AUDIT_DB, filters, cursor, limit);
      // Unreachable while the query schema checks cursors; kept so the Result is handled.
      if (!page.ok) return errorResponse('invalid_request', 'cursor');
      return c.json(page.value);
    })
    .get('/admin/v1/relays', async (c) => c.json({ relays: await listRelays(c.env.AUDIT_DB, Date.now()) }))
    .route('/', overrideApi)
    .route('/', consoleApp);
