import { z } from 'zod';

/** Relay heartbeat (`POST /v1/heartbeat`). Pure zod: the relay imports it too. */

/** The relay's default heartbeat interval (`edge.heartbeat_interval_ms`). */
export const HEARTBEAT_INTERVAL_MS = 30_000;
/** Three missed heartbeats: the admin API flags the relay as silent. */
export const SILENT_AFTER_MS = 3 * HEARTBEAT_INTERVAL_MS;

/**
 * The relay's edge circuit breaker. Two states only: the relay never lets a trial login through to
 * learn that the edge is back (its health probe does, while the breaker is open), so there is no
 * half-open state to report.
 */
export const breakerStateSchema = z.enum(['closed', 'open']);

export const heartbeatRequestSchema = z.object({
  /** Operator-facing relay name; the key id identifies the relay. */
  name: z.string().max(128).optional(),
  version: z.string().min(1).max(64),
  uptime_s: z.number().int().nonnegative(),
  breaker_state: breakerStateSchema,
  /** Monotonic counters, e.g. accepts, rejects, journal_depth, journal_dropped. */
  counters: z
    .record(z.string().regex(/^[a-z0-9_]{1,64}$/), z.number().nonnegative().finite())
    .refine((c) => Object.keys(c).length <= 64, { message: 'at most 64 counters' })
    .default({}),
});

export const heartbeatResponseSchema = z.object({ ok: z.literal(true), edge_time: z.number().int() });

export type HeartbeatRequest = z.input<typeof heartbeatRequestSchema>;
export type BreakerState = z.infer<typeof breakerStateSchema>;
