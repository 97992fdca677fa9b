import { deviceSchema } from '@duo-edge/contract/wire';
import { z } from 'zod';
import type { DuoAuth, DuoPreauth } from './api.ts';

/**
 * Duo response shapes. The envelope is judged in client.ts (its failures are not_json or http4xx);
 * these schemas judge `response`, and a mismatch there is `malformed` (fail-open eligible).
 */

export const failBody = z.object({
  stat: z.literal('FAIL'),
  // Duo's Go client tolerates `"code": ""`; keep only a numeric code.
  code: z.number().int().optional().catch(undefined),
  message: z.string().optional().catch(undefined),
});

export const timeResponse = z.object({ time: z.number().int() });

const factors = z.record(z.string(), z.string());

// text_prompt answers nest {text, factors}; flatten to the contract's prompt + factors.
const prompt = z.union([z.string(), z.object({ text: z.string(), factors: factors.optional() })]);

export const preauthResponse = z
  .discriminatedUnion('result', [
    z.object({
      result: z.literal('auth'),
      status_msg: z.string(),
      // Duo omits capabilities on token devices; the wire's schema defaults them to none.
      devices: z.array(deviceSchema),
      prompt: prompt.optional(),
      factors: factors.optional(),
    }),
    z.object({ result: z.enum(['allow', 'deny']), status_msg: z.string() }),
    z.object({ result: z.literal('enroll'), status_msg: z.string(), enroll_portal_url: z.string().optional() }),
  ])
  .transform((r): DuoPreauth => {
    if (r.result !== 'auth') return r;
    const { prompt, ...rest } = r;
    if (typeof prompt !== 'object') return { ...rest, prompt };
    return { ...rest, prompt: prompt.text, factors: rest.factors ?? prompt.factors };
  });

export const authResponse = z.object({
  result: z.enum(['allow', 'deny']),
  status: z.string(),
  status_msg: z.string(),
}) satisfies z.ZodType<DuoAuth>;

export const asyncAuthResponse = z.object({ txid: z.string().min(1) });

export const authStatusResponse = z.union([
  z.object({ result: z.literal('waiting'), status: z.string(), status_msg: z.string() }),
  authResponse,
]);
