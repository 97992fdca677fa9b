import { z } from 'zod';
import { decisionSourceSchema, factorSchema } from './wire.ts';

/**
 * The decision record: one shape for every final decision, wherever it is made. The edge writes
 * its own to the audit log; relays upload the ones they made alone (offline journal) through
 * `POST /v1/audit`, as the upload view below; the relay's flow and its auth-event log line carry
 * the same field names. Pure zod, no Workers types: the relay imports it.
 */

/** Upper bound on records per `POST /v1/audit`. */
export const MAX_UPLOAD_RECORDS = 500;

/** A stable id chosen when the decision is made (crypto.randomUUID), so uploads are idempotent. */
export const auditIdSchema = z
  .string()
  .min(8)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);

export const auditStageSchema = z.enum(['preauth', 'auth']);
/** The RADIUS outcome: Access-Accept or Access-Reject. */
export const auditResultSchema = z.enum(['allow', 'deny']);

const optionalText = z.string().max(253).nullable().default(null);

export const decisionRecordSchema = z.object({
  id: auditIdSchema,
  /** When the decision was made (epoch ms). */
  time: z.number().int().nonnegative(),
  username: z.string().min(1).max(253),
  nas_ip: optionalText,
  nas_identifier: optionalText,
  client_ip: optionalText,
  stage: auditStageSchema,
  factor: factorSchema.nullable().default(null),
  result: auditResultSchema,
  /** Reply-Message or failure detail; never a secret. */
  reason: z.string().max(512),
  latency_ms: z.number().int().nonnegative().nullable().default(null),
  source: decisionSourceSchema,
  site: z.string().min(1).max(128),
  /** Relay key id (or name) that carried the request; null for edge-internal decisions. */
  relay: z.string().max(128).nullable().default(null),
});

/** Sources a relay may report: decisions it made without the edge. Never `duo` or edge failmode. */
export const relayUploadSourceSchema = z.enum(['failmode-relay', 'exempt']);

/** What a relay sends. Site and relay come from its authenticated key, not from the body. */
export const auditRecordUploadSchema = decisionRecordSchema
  .omit({ site: true, relay: true })
  .extend({ source: relayUploadSourceSchema });

export const auditUploadRequestSchema = z.object({
  records: z.array(auditRecordUploadSchema).min(1).max(MAX_UPLOAD_RECORDS),
});

/** Why a record was refused (never stored): its `time` is outside what this relay could have written. */
export const auditRefusalSchema = z.enum(['time_in_future', 'time_before_key_added', 'time_beyond_retention']);

export const auditUploadResponseSchema = z.object({
  accepted: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  /** Records not stored, each with the reason; absent from edges that predate the time bounds. */
  refused: z.array(z.object({ id: auditIdSchema, reason: auditRefusalSchema })).default([]),
});

export const storedDecisionSchema = decisionRecordSchema.extend({ received_at: z.number().int() });

export type DecisionRecord = z.input<typeof decisionRecordSchema>;
export type AuditRecordUpload = z.input<typeof auditRecordUploadSchema>;
export type AuditUploadRequest = z.input<typeof auditUploadRequestSchema>;
export type AuditUploadResponse = z.infer<typeof auditUploadResponseSchema>;
export type AuditRefusal = z.infer<typeof auditRefusalSchema>;
export type StoredDecision = z.infer<typeof storedDecisionSchema>;
export type AuditResult = z.infer<typeof auditResultSchema>;
