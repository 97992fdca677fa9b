import { auditResultSchema } from '@duo-edge/contract/audit';
import { decisionSourceSchema } from '@duo-edge/contract/wire';
import { z } from 'zod';
import { decodeCursor } from '../audit/cursor.ts';
import { MAX_PAGE_SIZE } from '../audit/store.ts';

/** Epoch milliseconds, or an ISO 8601 date/time. */
const instant = z.string().transform((s, ctx) => {
  const ms = /^\d{1,15}$/.test(s) ? Number(s) : /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : Number.NaN;
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: 'expected epoch milliseconds or an ISO 8601 time' });
    return z.NEVER;
  }
  return ms;
});

export const decisionsQuerySchema = z.object({
  site: z.string().min(1).max(128).optional(),
  user: z.string().min(1).max(253).optional(),
  result: auditResultSchema.optional(),
  source: decisionSourceSchema.optional(),
  from: instant.optional(),
  to: instant.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  cursor: z
    .string()
    .refine((c) => decodeCursor(c) !== null, { message: 'not a cursor from this API' })
    .optional(),
});
