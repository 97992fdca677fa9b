import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { z } from 'zod';
import { invalidField } from './errors.ts';

/** zod validation of one part of the request, refused with the edge's 400 naming the field. */
export const validated = <T extends keyof ValidationTargets, S extends z.ZodType>(target: T, schema: S) =>
  zValidator(target, schema, (r) => (r.success ? undefined : invalidField(r.error)));

/**
 * JSON body validation. Relay auth has already read and verified the bytes; the validator parses
 * those (Hono serves them from its body cache).
 */
export const jsonBody = <S extends z.ZodType>(schema: S) => validated('json', schema);
