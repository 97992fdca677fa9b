import { utf8 } from '@duo-edge/contract/encoding';
import type { EdgeRequest, EdgeResponse, EdgeTransport } from '../../local-relay/src/edge/http/exchange.ts';

export interface FakeAnswer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/** An edge in-process: each request answered by `answer`, body capped as the real transport caps it. */
export function fakeTransport(answer: (req: EdgeRequest) => FakeAnswer | Promise<FakeAnswer>): EdgeTransport {
  return {
    async request(req) {
      const a = await answer(req);
      const body = utf8(a.body ?? '');
      const headers = a.headers ?? {};
      return {
        status: a.status,
        header: (name) => headers[name],
        body: body.byteLength > req.maxBytes(a.status) ? 'too_large' : body,
      } satisfies EdgeResponse;
    },
    retain() {},
    async close() {},
  };
}

/** The real transport, with every request seen first. */
export function spyTransport(inner: EdgeTransport, seen: (req: EdgeRequest) => void): EdgeTransport {
  return {
    request(req) {
      seen(req);
      return inner.request(req);
    },
    retain: (urls) => inner.retain(urls),
    close: () => inner.close(),
  };
}
