import { checkServiceUrl, SERVICE_URL_PROBLEM } from '@duo-edge/contract/url';
import { z } from 'zod';

/**
 * The Worker's own configuration for the relay API, validated before any request is served.
 * SITES_CONFIG is only checked for presence here; its content has its own schema
 * (sites/schema.ts). ADMIN_TOKEN is the admin API's alone (adminTokenSchema): a bad one must not
 * take logins down.
 */

/**
 * `""` means real Duo at https://<api_host>. Otherwise a transport override for local stacks and
 * tests, held to the contract's service-URL rule: signed Duo requests never go in clear over a network.
 */
export const duoBaseUrlSchema = z
  .string()
  .default('')
  .transform((raw, ctx) => {
    const s = raw.trim();
    if (s === '') return null;
    const checked = checkServiceUrl(s);
    if (!checked.ok) {
      ctx.addIssue({ code: 'custom', message: SERVICE_URL_PROBLEM[checked.error] });
      return z.NEVER;
    }
    const url = checked.value;
    return url.origin + url.pathname.replace(/\/+$/, '');
  });

export const envSchema = z.object({
  SITES_CONFIG: z.string().min(2),
  EDGE_SIGNING_KEY: z.string().includes('-----BEGIN PRIVATE KEY-----'),
  DUO_API_BASE_URL: duoBaseUrlSchema,
});

/** Unset or empty: the admin API is off. Set: long enough not to be guessed. */
export const adminTokenSchema = z.union([z.literal(''), z.string().min(16)]).default('');
