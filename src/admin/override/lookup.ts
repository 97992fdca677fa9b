import { logEvent } from '../../log.ts';
import { activeOverride } from './store.ts';

/**
 * The preauth's view of the site's override. An override only ever loosens a login, so when D1
 * cannot say whether one holds, none does: the login goes to Duo as usual.
 */
export const siteOverrideLookup =
  (db: D1Database, site: string, now: () => number) => async (): Promise<{ actor: string; reason: string } | null> => {
    try {
      const o = await activeOverride(db, site, now());
      return o ? { actor: o.actor, reason: o.reason } : null;
    } catch (e) {
      logEvent('error', 'override_lookup_failed', { site, error: e instanceof Error ? e.name : 'unknown' });
      return null;
    }
  };

/** Audit reason of a login decided by an override: the Reply-Message, who set it and why. */
export const overrideReason = (message: string, o: { actor: string; reason: string }): string =>
  `${message} (set by ${o.actor}: ${o.reason})`.slice(0, 512);
