import { zValidator } from '@hono/zod-validator';
import type { z } from 'zod';
import { invalidField } from './errors.ts';

/**
 * JSON body validation with the edge's 400 shape. Relay auth has already read and verified the
 * bytes; the validator parses those (Hono serves them from its body cache).
 */
export const jsonBody = <S extends z.ZodType>(schema: S) =>
  zValidator('json', schema, (r) => (r.success ? undefined : invalidField(r.error)));
