import { TextDecoder } from 'node:util';
import { errorResponseSchema } from '../../../src/wire/schemas.ts';

/**
 * Reading the edge's answer without trusting its size: the relay stops at `cap` bytes and drops the
 * connection, so a middlebox (or anything else on the path) cannot make it buffer without bound.
 */
export type CappedBody = { kind: 'ok'; bytes: Uint8Array<ArrayBuffer> } | { kind: 'over_cap' };

export async function readCapped(res: Response, cap: number): Promise<CappedBody> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > cap) {
    await res.body?.cancel().catch(() => {});
    return { kind: 'over_cap' };
  }
  if (!res.body) return { kind: 'ok', bytes: new Uint8Array(0) };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > cap) {
      await reader.cancel().catch(() => {});
      return { kind: 'over_cap' };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return { kind: 'ok', bytes };
}

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
