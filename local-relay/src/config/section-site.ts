import { z } from 'zod';

/**
 * `site = "…"` on a `[[server]]` or `[[ldap_server]]` section: the edge site that section's logins
 * belong to, instead of `[relay] site`. The same relay key signs for each; the site's policy,
 * failmode, breaker, heartbeat and journal are its own. Also a directory name under state_dir.
 */
export const sectionSite = {
  site: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be a site name: letters, digits, ".", "_", "-"')
    .optional(),
};

/** Every site this relay serves, `[relay] site` first. */
export function sitesOf(c: {
  relay: { site: string };
  server: ReadonlyArray<{ site?: string | undefined }>;
  ldap_server: ReadonlyArray<{ site?: string | undefined }>;
}): string[] {
  return [...new Set([c.relay.site, ...[...c.server, ...c.ldap_server].map((s) => s.site ?? c.relay.site)])];
}
