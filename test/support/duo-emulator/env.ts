import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { RecordedRequest } from './state.ts';

/** A parsed /auth/v2 request, set by recordRequest for the middleware after it. */
export interface DuoRequest {
  query: Record<string, string[]>;
  /** Form-encoded body parameters (v2 POST). */
  form: Record<string, string[]>;
  json: boolean;
  rawBody: string;
  /** Everything the handler may read: query, form or JSON body. */
  params: Record<string, string[]>;
  record: RecordedRequest;
}

// Node bindings are absent when the app is driven with app.request() in tests.
export type EmulatorEnv = { Bindings: Partial<HttpBindings>; Variables: { duo: DuoRequest } };
export type EmulatorContext = Context<EmulatorEnv>;

/** Duo's error envelope. */
export function duoFail(c: Context, status: ContentfulStatusCode, code: number, message: string, detail?: string) {
  return c.json({ stat: 'FAIL', code, message, ...(detail === undefined ? {} : { message_detail: detail }) }, status);
}

export const missingParam = (c: Context, name: string) => duoFail(c, 400, 40002, 'Invalid request parameters', name);

export function param(c: EmulatorContext, name: string): string | undefined {
  return c.get('duo').params[name]?.[0];
}

/** Resolves when the client side of the connection is gone (never, outside Node). */
export function connectionClosed(c: EmulatorContext): Promise<void> {
  return new Promise((resolve) => {
    const res = c.env?.outgoing;
    if (!res) return;
    if (res.destroyed) resolve();
    else res.once('close', () => resolve());
  });
}
