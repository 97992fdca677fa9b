import { type Context, Hono } from 'hono';
import { listDecisions, MAX_PAGE_SIZE } from '../../audit/store.ts';
import { logEvent } from '../../log.ts';
import { listRelays } from '../../relays/store.ts';
import type { Sites } from '../../sites/load.ts';
import { listAdminActions, recordAdminAction } from '../actions.ts';
import { type ConsoleEnv, TOKEN_ACTOR } from '../env.ts';
import { overrideRequestSchema } from '../override/schema.ts';
import { activeOverride, activeOverrides, clearOverride, setOverride } from '../override/store.ts';
import { decisionsQuerySchema } from '../query.ts';
import { tokenMatches } from '../token.ts';
import { ACCESS_JWT_HEADER, accessActor, signInMode } from './access.ts';
import { CSV_COLUMNS, csvRow } from './csv.ts';
import { shortKey } from './format.ts';
import { crossOrigin, setConsoleHeaders } from './security.ts';
import { endSession, hasSession, startSession } from './session.ts';
import { clearSigninFailures, recordSigninFailure, signinBlocked } from './signin-limit.ts';
import { decisionCounts, failmodeDecisions } from './stats.ts';
import { CONSOLE_CSS } from './style.ts';
import { type DecisionFilterForm, DecisionsPage } from './views/decisions.tsx';
import { OverviewPage } from './views/overview.tsx';
import { SignInPage } from './views/signin.tsx';
import { SitePage } from './views/site.tsx';
import type { NamedRelay } from './views/tables.tsx';

/**
 * The admin console at /admin/: server-rendered pages, no script. Signed in with the admin token
 * (a signed session cookie) or, behind Cloudflare Access, by the Access JWT on each request.
 */

type C = Context<ConsoleEnv>;

const DAY_MS = 24 * 60 * 60 * 1000;
/** Pages of MAX_PAGE_SIZE a CSV export reads at most. */
const CSV_MAX_PAGES = 20;
const PUBLIC_PATHS = new Set(['/admin/signin', '/admin/console.css']);

const isApi = (path: string) => path.startsWith('/admin/v1/');
const clientIp = (c: C) => c.req.header('cf-connecting-ip') ?? 'unknown';

/** Relays with the name their key has in the sites config (what the operator wrote). */
function namedRelays(sites: Sites, relays: Awaited<ReturnType<typeof listRelays>>): NamedRelay[] {
  return relays.map((r) => ({
    ...r,
    displayName: sites.site(r.site)?.relayKeys.get(r.key)?.name ?? r.name ?? shortKey(r.key),
  }));
}

function sitesOr500(c: C): Sites | Response {
  return c.var.sites ?? c.text('The sites configuration is invalid; see the worker log.', 500);
}

export const consoleApp = new Hono<ConsoleEnv>()
  .use('/admin/*', async function consoleGate(c, next) {
    if (isApi(c.req.path)) return next();
    setConsoleHeaders(c);
    const mode = signInMode(c.env);
    if (!mode.ok) {
      logEvent('error', 'env_invalid', { path: mode.field });
      return c.text(`The console is misconfigured (${mode.field}); see docs/deploy.md.`, 500);
    }
    if (crossOrigin(c)) return c.text('Forbidden: this form must be sent from the console itself.', 403);
    if (PUBLIC_PATHS.has(c.req.path)) return next();
    if (mode.mode.kind === 'access') {
      const actor = await accessActor(c.req.header(ACCESS_JWT_HEADER) ?? '', mode.mode);
      if (!actor) return c.text('Forbidden: sign in through Cloudflare Access.', 403);
      c.set('actor', actor);
      c.set('viaToken', false);
    } else {
      if (!(await hasSession(c, Date.now()))) {
        return c.req.method === 'GET' ? c.redirect('/admin/signin', 303) : c.text('Unauthorized', 401);
      }
      c.set('actor', TOKEN_ACTOR);
      c.set('viaToken', true);
    }
    await next();
  })
  .get('/admin/console.css', (c) => c.body(CONSOLE_CSS, 200, { 'content-type': 'text/css; charset=utf-8' }))
  .get('/admin', (c) => c.redirect('/admin/', 301))
  .get('/admin/signin', (c) => (signInIsAccess(c) ? c.redirect('/admin/', 303) : c.html(<SignInPage />)))
  .post('/admin/signin', async (c) => {
    if (signInIsAccess(c)) return c.redirect('/admin/', 303);
    const ip = clientIp(c);
    const now = Date.now();
    if (await signinBlocked(c.env.AUDIT_DB, ip, now)) {
      return c.html(<SignInPage error="Too many failed sign-ins from this address; try again later." />, 429);
    }
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token : '';
    if (!(await tokenMatches(token, c.env.ADMIN_TOKEN))) {
      await recordSigninFailure(c.env.AUDIT_DB, ip, now);
      logEvent('warn', 'console_signin_failed', { ip });
      return c.html(<SignInPage error="Wrong token." />, 401);
    }
    await clearSigninFailures(c.env.AUDIT_DB, ip);
    await recordAdminAction(c.env.AUDIT_DB, { actor: TOKEN_ACTOR, action: 'signin', site: null, detail: ip }, now);
    await startSession(c, now);
    return c.redirect('/admin/', 303);
  })
  .post('/admin/signout', async (c) => {
    await recordAdminAction(
      c.env.AUDIT_DB,
      { actor: c.var.actor, action: 'signout', site: null, detail: '' },
      Date.now(),
    );
    endSession(c);
    return c.redirect('/admin/signin', 303);
  })
  .get('/admin/', async (c) => {
    const sites = sitesOr500(c);
    if (sites instanceof Response) return sites;
    const now = Date.now();
    const db = c.env.AUDIT_DB;
    const [overrides, relays, counts, failmode] = await Promise.all([
      activeOverrides(db, now),
      listRelays(db, now),
      decisionCounts(db, now - DAY_MS),
      failmodeDecisions(db, now - DAY_MS, 20),
    ]);
    return c.html(
      <OverviewPage
        actor={c.var.actor}
        signOut={c.var.viaToken}
        now={now}
        sites={sites.all()}
        overrides={overrides}
        relays={namedRelays(sites, relays)}
        counts={counts}
        failmode={failmode}
      />,
    );
  })
  .get('/admin/decisions', async (c) => {
    const { form, filterQuery, parsed } = decisionFilters(c);
    const page = { actor: c.var.actor, signOut: c.var.viaToken, form, filterQuery };
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path.join('.') ?? 'query';
      return c.html(
        <DecisionsPage {...page} decisions={[]} nextCursor={null} error={`Invalid filter: ${field}`} />,
        400,
      );
    }
    const { limit, cursor, ...filters } = parsed.data;
    const result = await listDecisions(c.env.AUDIT_DB, filters, cursor, limit);
    if (!result.ok) return c.html(<DecisionsPage {...page} decisions={[]} nextCursor={null} error="Bad cursor" />, 400);
    return c.html(<DecisionsPage {...page} decisions={result.value.records} nextCursor={result.value.next_cursor} />);
  })
  .get('/admin/decisions.csv', async (c) => {
    const { parsed } = decisionFilters(c);
    if (!parsed.success) return c.text(`Invalid filter: ${parsed.error.issues[0]?.path.join('.')}`, 400);
    const { cursor: start, ...filters } = parsed.data;
    const lines: string[] = [CSV_COLUMNS.join(',')];
    let cursor = start;
    for (let i = 0; i < CSV_MAX_PAGES; i++) {
      const page = await listDecisions(c.env.AUDIT_DB, filters, cursor, MAX_PAGE_SIZE);
      if (!page.ok) return c.text('Invalid filter: cursor', 400);
      lines.push(...page.value.records.map(csvRow));
      if (!page.value.next_cursor) break;
      cursor = page.value.next_cursor;
    }
    return c.body(`${lines.join('\r\n')}\r\n`, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="duo-edge-decisions.csv"',
    });
  })
  .get('/admin/sites/:site', async (c) => sitePage(c))
  .post('/admin/sites/:site/override', async (c) => {
    const form = await c.req.parseBody();
    const parsed = overrideRequestSchema.safeParse({ mode: form.mode, minutes: form.minutes, reason: form.reason });
    if (!parsed.success) {
      return sitePage(c, `Not set: ${parsed.error.issues[0]?.path.join('.') ?? 'form'} is invalid.`);
    }
    const site = knownSite(c);
    if (!site) return c.text('Not found', 404);
    await setOverride(c.env.AUDIT_DB, site, parsed.data, c.var.actor, Date.now());
    return c.redirect(`/admin/sites/${encodeURIComponent(site)}`, 303);
  })
  .post('/admin/sites/:site/override/clear', async (c) => {
    const site = knownSite(c);
    if (!site) return c.text('Not found', 404);
    await clearOverride(c.env.AUDIT_DB, site, c.var.actor, Date.now());
    return c.redirect(`/admin/sites/${encodeURIComponent(site)}`, 303);
  });

function signInIsAccess(c: C): boolean {
  const mode = signInMode(c.env);
  return mode.ok && mode.mode.kind === 'access';
}

function knownSite(c: C): string | null {
  const id = c.req.param('site') ?? '';
  return c.var.sites?.site(id) ? id : null;
}

async function sitePage(c: C, error?: string) {
  const sites = sitesOr500(c);
  if (sites instanceof Response) return sites;
  const site = sites.site(c.req.param('site') ?? '');
  if (!site) return c.text('Not found', 404);
  const now = Date.now();
  const db = c.env.AUDIT_DB;
  const [override, relays, history] = await Promise.all([
    activeOverride(db, site.id, now),
    listRelays(db, now),
    listAdminActions(db, site.id, 20),
  ]);
  return c.html(
    <SitePage
      actor={c.var.actor}
      signOut={c.var.viaToken}
      now={now}
      site={site}
      relays={namedRelays(
        sites,
        relays.filter((r) => r.site === site.id),
      )}
      override={override ?? undefined}
      history={history}
      {...(error ? { error } : {})}
    />,
    error ? 400 : 200,
  );
}

/** The decisions filter from the query string: empty fields are "any". */
function decisionFilters(c: C) {
  const raw = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ''));
  const form: DecisionFilterForm = {};
  const keep = new URLSearchParams();
  for (const k of ['site', 'user', 'result', 'source', 'from', 'to'] as const) {
    const v = raw[k];
    if (v !== undefined) {
      form[k] = v;
      keep.set(k, v);
    }
  }
  return { form, filterQuery: keep.toString(), parsed: decisionsQuerySchema.safeParse(raw) };
}
