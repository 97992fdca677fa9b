import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { logEvent } from '../log.ts';

/**
 * Every error the edge sends: errorResponseSchema's shape, a fixed generic message per code, and
 * `Cache-Control: no-store`. Details go to the log, never to the caller.
 */

const MESSAGES = {
  invalid_request: 'invalid request',
  unauthorized: 'unauthorized',
  not_found: 'not found',
  payload_too_large: 'request body too large',
  site_misconfigured: 'this site is misconfigured at the edge; its logins are refused',
  edge_misconfigured: 'the edge is misconfigured; logins are refused',
  replayed: 'request already seen',
  internal: 'internal error',
} as const;

export type ErrorCode = keyof typeof MESSAGES;

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  payload_too_large: 413,
  site_misconfigured: 403,
  edge_misconfigured: 403,
  replayed: 409,
  internal: 500,
};

export function errorResponse(code: ErrorCode, field?: string): Response {
  const body = { error: { code, message: MESSAGES[code], ...(field ? { field } : {}) } };
  return new Response(JSON.stringify(body), {
    status: STATUS[code],
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
}

/** 400 naming the first invalid field by its path (`nas.ip`), never echoing the value. */
export function invalidField(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey> }> }): Response {
  const field = error.issues[0]?.path.map(String).join('.');
  return errorResponse('invalid_request', field || undefined);
}

export const notFound: NotFoundHandler = () => errorResponse('not_found');

const CLIENT_ERRORS = new Map<number, ErrorCode>([
  [400, 'invalid_request'],
  [401, 'unauthorized'],
  [404, 'not_found'],
  [413, 'payload_too_large'],
]);

/** Known HTTP exceptions (e.g. malformed JSON from the validator) keep their status; the rest is a 500. */
export const onError: ErrorHandler = (e: Error, c: Context) => {
  const known = e instanceof HTTPException ? CLIENT_ERRORS.get(e.status) : undefined;
  if (known) {
    logEvent('warn', 'request_refused', { path: c.req.path, status: STATUS[known] });
    return errorResponse(known);
  }
  logEvent('error', 'unhandled_error', { path: c.req.path, error: e.name, stack: e.stack });
  return errorResponse('internal');
};
