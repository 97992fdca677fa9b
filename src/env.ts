import { z } from 'zod';

/**
 * The Worker's own configuration for the relay API, validated before any request is served.
 * SITES_CONFIG is only checked for presence here; its content has its own schema
 * (sites/schema.ts). ADMIN_TOKEN is the admin API's alone (adminTokenSchema): a bad one must not
 * take logins down.
 */

const LOOPBACK_HOST = /^(127(\.\d{1,3}){3}|\[::1\]|localhost)$/;

/**
 * `""` means real Duo at https://<api_host>. Otherwise a transport override for local stacks and
 * tests: https anywhere, plain http only to this machine, so a stray setting cannot send signed Duo
 * requests in clear over a network.
 */
export const duoBaseUrlSchema = z
  .string()
  .default('')
  .transform((raw, ctx) => {
    const s = raw.trim();
    if (s === '') return null;
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a URL' });
      return z.NEVER;
    }
    const loopback = LOOPBACK_HOST.test(url.hostname);
    if (!(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) {
      ctx.addIssue({ code: 'custom', message: 'must be https://, or http:// to a loopback host' });
      return z.NEVER;
    }
    if (url.search || url.hash || url.username || url.password) {
      ctx.addIssue({ code: 'custom', message: 'must not carry credentials, query or fragment' });
      return z.NEVER;
    }
    return url.origin + url.pathname.replace(/\/+$/, '');
  });

export const envSchema = z.object({
  SITES_CONFIG: z.string().min(2),
  EDGE_SIGNING_KEY: z.string().includes('-----BEGIN PRIVATE KEY-----'),
  DUO_API_BASE_URL: duoBaseUrlSchema,
});

/** Unset or empty: the admin API is off. Set: long enough not to be guessed. */
export const adminTokenSchema = z.union([z.literal(''), z.string().min(16)]).default('');
