import { z } from 'zod';

/**
 * The one definition of the relay <-> edge wire (API v1). The edge validates requests with these
 * schemas; the relay validates the edge's (signed) answers with the same ones.
 */

export const failmodeSchema = z.enum(['safe', 'secure']);
export const factorSchema = z.enum(['auto', 'push', 'phone', 'sms', 'passcode']);
/** Configured factor list entries (authproxy.cfg `factors`). */
export const factorPreferenceSchema = z.enum(['auto', 'push', 'phone', 'passcode']);
/** Who made a decision; the audit log's `source` column. `override`: an admin's primary-only override. */
export const decisionSourceSchema = z.enum(['duo', 'failmode-edge', 'failmode-relay', 'policy', 'exempt', 'override']);
/** The sources of decisions the failmode made (the edge's, or the relay's while the edge was unreachable). */
export const FAILMODE_SOURCES: readonly DecisionSource[] = ['failmode-edge', 'failmode-relay'];

const username = z.string().min(1).max(253);
const ipAddress = z.union([z.ipv4(), z.ipv6()]);

/** The NAS side of a login, for Duo's `ipaddr`/`hostname`, coordination and audit. */
export const nasSchema = z.object({
  ip: ipAddress.optional(),
  identifier: z.string().max(253).optional(),
  calling_station_id: z.string().max(253).optional(),
});

export const preauthRequestSchema = z.object({
  username,
  /** Client IP sent to Duo as `ipaddr` (from client_ip_attr, validated). */
  client_ip: ipAddress.optional(),
  nas: nasSchema.default({}),
  /** `passed`: primary auth succeeded. `none`: no primary (duo_only); fail-open never applies. */
  primary: z.enum(['passed', 'none']),
});

/** A device as Duo's preauth lists it, passed on to the relay unchanged. */
export const deviceSchema = z.object({
  device: z.string(),
  type: z.string(),
  name: z.string().optional(),
  display_name: z.string().optional(),
  number: z.string().optional(),
  // Duo omits capabilities on token devices.
  capabilities: z.array(z.string()).default([]),
});

export const failmodeInfoSchema = z.object({
  failmode: failmodeSchema,
  stage: z.enum(['preauth', 'auth']),
  failure: z.string(),
});

export const preauthResponseSchema = z.discriminatedUnion('result', [
  z.object({
    result: z.literal('auth'),
    message: z.string(),
    source: z.literal('duo'),
    devices: z.array(deviceSchema),
    /** Duo text prompt (challenge mode) and its option map, e.g. {"1": "push1", "default": "push1"}. */
    prompt: z.string().optional(),
    factors: z.record(z.string(), z.string()).default({}),
  }),
  z.object({
    result: z.literal('allow'),
    message: z.string(),
    source: decisionSourceSchema,
    failmode: failmodeInfoSchema.optional(),
  }),
  z.object({
    result: z.literal('deny'),
    message: z.string(),
    source: decisionSourceSchema,
    failmode: failmodeInfoSchema.optional(),
  }),
  z.object({
    result: z.literal('enroll'),
    message: z.string(),
    source: z.literal('duo'),
    enroll_portal_url: z.string().optional(),
  }),
]);

export const authRequestSchema = z
  .object({
    username,
    factor: factorSchema,
    /** Duo device id or `auto`; also carries Duo factor tokens like `push2`/`phone1` from concat. */
    device: z.string().min(1).max(64).default('auto'),
    passcode: z
      .string()
      .regex(/^[0-9A-Za-z]{1,32}$/)
      .optional(),
    client_ip: ipAddress.optional(),
    nas: nasSchema.default({}),
    primary: z.enum(['passed', 'none']),
    /**
     * Identifies one login: SHA-256 (hex) of what only that Access-Request carries (the NAS, its
     * Request Authenticator, the User-Name). Concurrent calls join only with the same login_id.
     */
    login_id: z.string().regex(/^[0-9a-f]{64}$/),
    pushinfo: z.record(z.string().max(64), z.string().max(256)).optional(),
  })
  .refine((r) => (r.factor === 'passcode') === (r.passcode !== undefined), {
    message: 'passcode is required with factor passcode, and only then',
    path: ['passcode'],
  });

export const authResponseSchema = z.object({
  result: z.enum(['allow', 'deny']),
  message: z.string(),
  source: decisionSourceSchema,
  /** Duo's `status` (e.g. allow, deny, fraud, timeout, locked_out) when Duo answered. */
  status: z.string().optional(),
  failmode: failmodeInfoSchema.optional(),
});

/** The edge's Duo deadlines when a site sets none; a relay's stage timeouts must exceed them. */
export const DEFAULT_EDGE_DEADLINES = { preauth_deadline_ms: 10_000, auth_deadline_ms: 65_000 } as const;

export const sitePolicySchema = z.object({
  site: z.string(),
  version: z.string(),
  failmode: failmodeSchema,
  factors: z.array(factorPreferenceSchema).min(1),
  exempt_usernames: z.array(z.string()),
  limits: z.object({
    push_per_window: z.number().int().positive(),
    passcode_failures_per_window: z.number().int().positive(),
    window_seconds: z.number().int().positive(),
  }),
  /** The site's options as the edge applies them (optional: policies cached by older relays lack it). */
  options: z
    .object({
      duo_only_failopen_acknowledged: z.boolean(),
      push_async: z.boolean(),
      preauth_deadline_ms: z.number().int().positive(),
      auth_deadline_ms: z.number().int().positive(),
    })
    .optional(),
  /** Edge clock (unix seconds), for the relay's skew check. */
  edge_time: z.number().int(),
});

export const healthResponseSchema = z.object({
  ok: z.boolean(),
  version: z.string(),
  duo: z.object({
    /** null until a check has run in this isolate. */
    reachable: z.boolean().nullable(),
    checked_at: z.number().int().nullable(),
  }),
});

/** A wire error body. Never carries a secret or a stack. */
export const errorResponseSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

export type Failmode = z.infer<typeof failmodeSchema>;
export type Factor = z.infer<typeof factorSchema>;
export type FactorPreference = z.infer<typeof factorPreferenceSchema>;
export type DecisionSource = z.infer<typeof decisionSourceSchema>;
export type PreauthRequest = z.infer<typeof preauthRequestSchema>;
export type PreauthResponse = z.infer<typeof preauthResponseSchema>;
export type AuthRequest = z.infer<typeof authRequestSchema>;
export type AuthResponse = z.infer<typeof authResponseSchema>;
export type SitePolicy = z.infer<typeof sitePolicySchema>;
export type HealthResponse = z.infer<typeof healthResponseSchema>;
export type Device = z.infer<typeof deviceSchema>;
