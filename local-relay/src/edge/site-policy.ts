import type { Logger } from 'pino';
import type { Failmode, SitePolicy } from '../../../src/wire/schemas.ts';
import type { EdgeClient } from './client.ts';
import { describe } from './client.ts';
import { loadPolicy, savePolicy } from './policy-file.ts';

/**
 * The site policy the relay enforces when it cannot reach the edge. Order of trust: the latest
 * policy fetched from the edge; else the last one saved to disk (last-known-good); the relay
 * config's own failmode only before any fetch ever succeeded.
 */
export interface SitePolicySource {
  failmode(): Failmode;
  current(): { failmode: Failmode; from: 'edge' | 'disk' | 'config'; policy?: SitePolicy };
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
  configFailmode: Failmode;
  client: Pick<EdgeClient, 'site'>;
  refreshMs: number;
  logger: Logger;
}): SitePolicyStore {
  const log = opts.logger.child({ component: 'site-policy' });
  let policy: SitePolicy | undefined;
  let from: 'edge' | 'disk' | 'config' = 'config';
  let timer: NodeJS.Timeout | undefined;

  return {
    failmode: () => policy?.failmode ?? opts.configFailmode,
    current: () => ({ failmode: policy?.failmode ?? opts.configFailmode, from, ...(policy ? { policy } : {}) }),

    async load() {
      const loaded = await loadPolicy(opts.file, opts.site);
      if (loaded.kind === 'ok') {
        policy = loaded.policy;
        from = 'disk';
        log.info({ failmode: policy.failmode, version: policy.version }, 'loaded last-known-good site policy');
      } else if (loaded.kind === 'invalid') {
        log.warn({ file: opts.file, detail: loaded.detail }, 'ignoring saved site policy');
      }
    },

    async refresh() {
      const r = await opts.client.site();
      if (r.kind !== 'ok') {
        log.warn(
          { failure: describe(r), failmode: policy?.failmode ?? opts.configFailmode },
          'site policy not refreshed',
        );
        return false;
      }
      if (r.value.site !== opts.site) {
        log.error({ got: r.value.site }, 'edge returned the policy of another site; ignored');
        return false;
      }
      const changed = policy?.failmode !== r.value.failmode || policy?.version !== r.value.version;
      policy = r.value;
      from = 'edge';
      if (changed) log.info({ failmode: policy.failmode, version: policy.version }, 'site policy updated');
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
