import {
  Agent,
  type AgentOptions,
  type ClientRequest,
  type ClientRequestArgs,
  type IncomingMessage,
  request,
} from 'node:http';
import type { Duplex } from 'node:stream';
import { type EdgeRequest, type EdgeResponse, headerOf, redirectOf } from './exchange.ts';
import { readCapped } from './read-capped.ts';

/**
 * HTTP/1.1 holds one connection per call in flight, so a waiting push holds a socket: the bound
 * keeps a flood of logins from taking every descriptor; calls past it wait for a free connection
 * (within their own deadline). Edges that speak h2 never come here.
 */
const H1_MAX_SOCKETS = 256;

export interface H1PoolOptions {
  /** Where the TCP connection (or the request line, for a proxy's absolute-form) goes. */
  host: string;
  port: number;
  /** A connection of our own making (TLS to the edge, maybe inside a proxy tunnel); default plain TCP. */
  connect?: Connect;
  /** The request line names the whole URL (a proxy's absolute-form), with these extra headers. */
  absoluteForm?: { headers: Readonly<Record<string, string>> };
}

type Connect = (done: (error: Error | null, socket?: Duplex) => void) => void;

/** An agent whose new connections come from `connect`, which may take a while (TLS, a proxy tunnel). */
class AgentOver extends Agent {
  readonly #connect: Connect;

  constructor(connect: Connect, options: AgentOptions) {
    super(options);
    this.#connect = connect;
  }

  override createConnection(
    _options: ClientRequestArgs,
    done?: (error: Error | null, socket: Duplex) => void,
  ): undefined {
    this.#connect((error, socket) => done?.(error, socket as Duplex));
    return undefined;
  }
}

/** Keep-alive HTTP/1.1 to one origin (or one proxy): sequential calls reuse one connection. */
export class H1Pool {
  private readonly o: H1PoolOptions;
  private readonly agent: Agent;
  private inFlight = 0;
  private closing = false;

  constructor(o: H1PoolOptions) {
    this.o = o;
    const options = { keepAlive: true, maxSockets: H1_MAX_SOCKETS, maxFreeSockets: 16, scheduling: 'lifo' as const };
    this.agent = o.connect ? new AgentOver(o.connect, options) : new Agent(options);
  }

  request(req: EdgeRequest): Promise<EdgeResponse> {
    this.inFlight++;
    return this.send(req).finally(() => {
      this.inFlight--;
      if (this.closing && this.inFlight === 0) this.agent.destroy();
    });
  }

  /** Idle connections close now, busy ones once their call is over. */
  close(): void {
    this.closing = true;
    if (this.inFlight === 0) this.agent.destroy();
  }

  private send(req: EdgeRequest): Promise<EdgeResponse> {
    const { url } = req;
    return new Promise<EdgeResponse>((resolve, reject) => {
      let out: ClientRequest;
      const onAbort = () => {
        out.destroy(req.signal.reason);
        reject(req.signal.reason);
      };
      out = request(
        {
          agent: this.agent,
          host: this.o.host,
          port: this.o.port,
          method: req.method,
          path: this.o.absoluteForm ? url.href : `${url.pathname}${url.search}`,
          headers: {
            ...req.headers,
            host: url.host,
            ...(req.body ? { 'content-length': String(req.body.byteLength) } : {}),
            ...this.o.absoluteForm?.headers,
          },
        },
        (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          const redirect = redirectOf(status);
          if (redirect) {
            res.destroy();
            return reject(redirect);
          }
          const header = headerOf(res.headers);
          readCapped(res, header('content-length'), req.maxBytes(status), () => out.destroy())
            .then((body) => resolve({ status, header, body }), reject)
            .finally(() => req.signal.removeEventListener('abort', onAbort));
        },
      );
      out.once('error', (error) => {
        req.signal.removeEventListener('abort', onAbort);
        reject(error);
      });
      if (req.signal.aborted) return onAbort();
      req.signal.addEventListener('abort', onAbort, { once: true });
      out.end(req.body);
    });
  }
}
