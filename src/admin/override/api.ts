import { Hono } from 'hono';
import { errorResponse } from '../../middleware/errors.ts';
import { validated } from '../../middleware/json-body.ts';
import type { AdminEnv } from '../env.ts';
import { overrideRequestSchema } from './schema.ts';
import { activeOverride, clearOverride, setOverride } from './store.ts';

/** `/admin/v1/sites/{site}/override`: read, set (PUT) and end (DELETE) a site's primary-only override. */
export const overrideApi = new Hono<AdminEnv>()
  .use('/admin/v1/sites/:site/override', async function knownSite(c, next) {
    const sites = c.var.sites;
    if (!sites) return errorResponse('internal');
    if (!sites.site(c.req.param('site'))) return errorResponse('not_found');
    await next();
  })
  .get('/admin/v1/sites/:site/override', async (c) =>
    c.json({ override: await activeOverride(c.env.AUDIT_DB, c.req.param('site'), Date.now()) }),
  )
  .put('/admin/v1/sites/:site/override', validated('json', overrideRequestSchema), async (c) => {
    const o = await setOverride(c.env.AUDIT_DB, c.req.param('site'), c.req.valid('json'), c.var.actor, Date.now());
    return c.json({ override: o });
  })
  .delete('/admin/v1/sites/:site/override', async (c) =>
    c.json({ cleared: await clearOverride(c.env.AUDIT_DB, c.req.param('site'), c.var.actor, Date.now()) }),
  );
