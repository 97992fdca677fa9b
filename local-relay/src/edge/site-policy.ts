import type { Failmode, SitePolicy } from '@duo-edge/contract/wire';
import type { Logger } from 'pino';
import type { EdgeClient } from './client.ts';
import { describe } from './client.ts';
import { loadPolicy, savePolicy } from './policy-file.ts';

/**
 * The site policy the relay enforces when it cannot reach the edge. Order of trust: the latest
 * policy fetched from the edge; else the last one saved to disk (last-known-good); before any
 * signed policy was ever fetched, `relay.failmode` if the admin set it, else `secure`: a relay that
 * has never heard from its site must not guess that the site lets people in on a password.
 */
export type PolicyFrom = 'edge' | 'disk' | 'config' | 'default';

export interface SitePolicySource {
  failmode(): Failmode;
  current(): { failmode: Failmode; from: PolicyFrom; policy?: SitePolicy };
}

/** Which failmode is in force and why, for the startup log and `duo-relay check`. */
export function failmodeReason(c: ReturnType<SitePolicySource['current']>): string {
  switch (c.from) {
    case 'edge':
    case 'disk':
      return `signed site policy (version ${c.policy?.version})${c.from === 'disk' ? ' (last-known-good, saved)' : ''}`;
    case 'config':
      return 'configured relay.failmode (no signed site policy fetched yet)';
    case 'default':
      return 'default secure (no signed site policy fetched yet, relay.failmode unset)';
  }
}

export interface SitePolicyStore extends SitePolicySource {
  /** Loads the saved policy. Call once before serving. */
  load(): Promise<void>;
  /** One fetch from the edge; true when a policy was received (and saved). */
  refresh(): Promise<boolean>;
  start(): void;
  stop(): void;
}

export function createSitePolicyStore(opts: {
  site: string;
  file: string;
  /** `relay.failmode` as the admin set it; undefined when unset. */
  configFailmode: Failmode | undefined;
  client: Pick<EdgeClient, 'site'>;
  refreshMs: number;
  logger: Logger;
  /** A policy was loaded from disk, or a new one (version or failmode) came from the edge. */
  onChange?: (policy: SitePolicy) => void;
}): SitePolicyStore {
  const log = opts.logger.child({ component: 'site-policy' });
  let policy: SitePolicy | undefined;
  let from: PolicyFrom = opts.configFailmode ? 'config' : 'default';
  let timer: NodeJS.Timeout | undefined;
  const failmode = (): Failmode => policy?.failmode ?? opts.configFailmode ?? 'secure';

  return {
    failmode,
    current: () => ({ failmode: failmode(), from, ...(policy ? { policy } : {}) }),

    async load() {
      const loaded = await loadPolicy(opts.file, opts.site);
      if (loaded.ok) {
        policy = loaded.value;
        from = 'disk';
        log.info({ failmode: policy.failmode, version: policy.version }, 'loaded last-known-good site policy');
        opts.onChange?.(policy);
      } else if (loaded.error.kind === 'invalid') {
        log.warn({ file: opts.file, detail: loaded.error.detail }, 'ignoring saved site policy');
      }
    },

    async refresh() {
      const r = await opts.client.site();
      if (r.kind !== 'ok') {
        log.warn({ failure: describe(r), failmode: failmode() }, 'site policy not refreshed');
        return false;
      }
      if (r.value.site !== opts.site) {
        log.error({ got: r.value.site }, 'edge returned the policy of another site; ignored');
        return false;
      }
      const changed = policy?.failmode !== r.value.failmode || policy?.version !== r.value.version;
      policy = r.value;
      from = 'edge';
      if (changed) {
        log.info({ failmode: policy.failmode, version: policy.version }, 'site policy updated');
        opts.onChange?.(policy);
      }
      try {
        await savePolicy(opts.file, r.value);
      } catch (error) {
        log.error({ err: error, file: opts.file }, 'could not save the site policy');
      }
      return true;
    },

    start() {
      if (timer) return;
      timer = setInterval(() => void this.refresh(), opts.refreshMs);
      timer.unref();
    },

    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
