import { fromBase64Url, toBase64Url } from '@duo-edge/contract/encoding';
import { DEFAULT_EDGE_DEADLINES, factorPreferenceSchema, failmodeSchema } from '@duo-edge/contract/wire';
import { z } from 'zod';

/**
 * The SITES_CONFIG secret: named Duo integrations, and sites that use them. Strict objects, so a
 * misspelt option is an error at load rather than a silently ignored security setting.
 */

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/i;

export const integrationSchema = z.strictObject({
  ikey: z.string().regex(/^DI[A-Za-z0-9]{18}$/, 'must be DI followed by 18 letters or digits'),
  skey: z.string().length(40),
  api_host: z.string().regex(HOSTNAME, 'must be a hostname'),
});

/** Canonical base64url of a 32-byte Ed25519 public key; any other spelling is normalised to it. */
const publicKeySchema = z.string().transform((s, ctx) => {
  const raw = fromBase64Url(s);
  if (!raw || raw.length !== 32) {
    ctx.addIssue({ code: 'custom', message: 'must be base64url of a 32-byte Ed25519 public key' });
    return z.NEVER;
  }
  return toBase64Url(raw);
});

export const relayKeySchema = z.union([
  publicKeySchema.transform((key) => ({ key, revoked: false })),
  z.strictObject({
    key: publicKeySchema,
    name: z.string().min(1).max(64).optional(),
    revoked: z.boolean().default(false),
    /** When the key was added (ISO 8601): journal records older than this are refused. */
    added: z.iso.datetime({ offset: true }).optional(),
  }),
]);

export const limitsSchema = z.strictObject({
  push_per_window: z.number().int().positive().default(5),
  passcode_failures_per_window: z.number().int().positive().default(10),
  window_seconds: z.number().int().positive().default(600),
});

export const siteOptionsSchema = z.strictObject({
  /** Lets a relay without primary auth (duo_only) fail open; off by default, as Duo refuses it. */
  duo_only_failopen_acknowledged: z.boolean().default(false),
  /** Push/phone through async auth + auth_status polling instead of one long blocking request. */
  push_async: z.boolean().default(true),
  preauth_deadline_ms: z.number().int().min(1_000).max(30_000).default(DEFAULT_EDGE_DEADLINES.preauth_deadline_ms),
  /** Covers a push the user answers at the last moment (Duo times pushes out at about 60 s). */
  auth_deadline_ms: z.number().int().min(5_000).max(120_000).default(DEFAULT_EDGE_DEADLINES.auth_deadline_ms),
});

export const siteSchema = z.strictObject({
  integration: z.string().regex(NAME),
  failmode: failmodeSchema.default('safe'),
  relay_keys: z.array(relayKeySchema).min(1),
  factors: z.array(factorPreferenceSchema).min(1).default(['auto']),
  exempt_usernames: z.array(z.string().min(1).max(253)).default([]),
  limits: limitsSchema.prefault({}),
  options: siteOptionsSchema.prefault({}),
});

/**
 * The document's outer shape. Entries are validated one by one (sites/load.ts): a broken site or
 * integration disables what depends on it, never the other sites.
 */
export const sitesDocumentSchema = z.strictObject({
  integrations: z.record(z.string(), z.unknown()),
  sites: z.record(z.string(), z.unknown()),
});

/** The whole document as written (for tools and tests that build one). */
export const sitesConfigSchema = z.strictObject({
  integrations: z.record(z.string().regex(NAME), integrationSchema),
  sites: z.record(z.string().regex(NAME), siteSchema),
});

export const entryNameSchema = z.string().regex(NAME);

export type SitesConfigInput = z.input<typeof sitesConfigSchema>;
export type SiteConfig = z.output<typeof siteSchema>;
export type SiteOptions = z.output<typeof siteOptionsSchema>;
