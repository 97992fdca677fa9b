import type { Sites } from '../sites/load.ts';

/** Hono env of the admin API and the console. */
export type AdminEnv = {
  Bindings: Pick<Env, 'AUDIT_DB' | 'ADMIN_TOKEN' | 'SITES_CONFIG' | 'ACCESS_TEAM_DOMAIN' | 'ACCESS_AUD'>;
  Variables: {
    actor: string;
    /** The parsed sites config; null when it is invalid, which the caller refuses. */
    sites: Sites | null;
  };
};

/** The console's env: `viaToken` is false behind Cloudflare Access (no sign-out of ours then). */
export type ConsoleEnv = { Bindings: AdminEnv['Bindings']; Variables: AdminEnv['Variables'] & { viaToken: boolean } };

/** Actor of the bearer-token API and the token sign-in: the one shared admin token. */
export const TOKEN_ACTOR = 'admin-token';
