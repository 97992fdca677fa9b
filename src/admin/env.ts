import { loadSites, type Sites } from '../sites/load.ts';

/** Hono env of the admin API and the console. */
export type AdminEnv = {
  Bindings: Pick<Env, 'AUDIT_DB' | 'ADMIN_TOKEN' | 'SITES_CONFIG' | 'ACCESS_TEAM_DOMAIN' | 'ACCESS_AUD'>;
  Variables: { actor: string };
};

/** The console's env: `viaToken` is false behind Cloudflare Access (no sign-out of ours then). */
export type ConsoleEnv = { Bindings: AdminEnv['Bindings']; Variables: AdminEnv['Variables'] & { viaToken: boolean } };

/** The sites config (parsed once per isolate); null when it is invalid, which the caller refuses. */
export function adminSites(env: AdminEnv['Bindings']): Sites | null {
  const sites = loadSites(env.SITES_CONFIG);
  return sites.ok ? sites.value : null;
}

/** Actor of the bearer-token API and the token sign-in: the one shared admin token. */
export const TOKEN_ACTOR = 'admin-token';
