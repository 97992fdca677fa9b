import { z } from 'zod';

/** Body of `PUT /admin/v1/sites/{site}/override` and of the site page's form. */
export const overrideRequestSchema = z.strictObject({
  mode: z.literal('primary_only'),
  minutes: z.coerce.number().int().min(1).max(1440),
  reason: z.string().trim().min(1).max(200),
});

export type OverrideRequest = z.infer<typeof overrideRequestSchema>;
