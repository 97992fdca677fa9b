import type { MiddlewareHandler } from 'hono';
import { duoFail, type EmulatorEnv } from './env.ts';
import type { EmulatorState, RecordedRequest } from './state.ts';

function collect(entries: Iterable<[string, string]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of entries) out[k] = [...(out[k] ?? []), v];
  return out;
}

function jsonParams(raw: string): Record<string, string[]> | undefined {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === 'object' && v !== null) return undefined;
    out[k] = [String(v)];
  }
  return out;
}

/** Parses query, form or JSON parameters and appends the request to the log before anything can fail. */
export function recordRequest(state: EmulatorState): MiddlewareHandler<EmulatorEnv> {
  return async function recordRequest(c, next) {
    const url = new URL(c.req.url);
    const rawBody = c.req.method === 'GET' ? '' : await c.req.text();
    const json = (c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json');
    const query = collect(url.searchParams);
    const body = json ? jsonParams(rawBody) : collect(new URLSearchParams(rawBody));
    const params = { ...query, ...body };
    const logged = params.passcode ? { ...params, passcode: ['[redacted]'] } : params;
    const record: RecordedRequest = {
      endpoint: url.pathname.replace(/^\/auth\/v2\//, ''),
      method: c.req.method,
      params: logged,
      signature: 'unsigned',
      time: state.now(),
    };
    state.requests.push(record);
    if (!body) {
      record.signature = 'rejected: body';
      return duoFail(c, 400, 40002, 'Invalid request parameters', 'body');
    }
    c.set('duo', { query, form: json ? {} : body, json, rawBody, params, record });
    await next();
  };
}
