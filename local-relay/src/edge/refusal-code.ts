import { TextDecoder } from 'node:util';
import { errorResponseSchema } from '@duo-edge/contract/wire';

/** Error codes are short snake_case words; anything else is not shown, so a body cannot forge log lines. */
const ERROR_CODE = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * The `error.code` of a refusal body (`{"error":{"code":"site_misconfigured",...}}`). Unsigned, so
 * it is used for display and metrics only, never for a decision.
 */
export function refusalCode(bytes: Uint8Array<ArrayBuffer>): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  const parsed = errorResponseSchema.safeParse(json);
  return parsed.success && ERROR_CODE.test(parsed.data.error.code) ? parsed.data.error.code : undefined;
}
