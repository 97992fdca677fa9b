import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import {
  Attr,
  Code,
  type DecodedPacket,
  decodePacket,
  encodeRequest,
  hidePassword,
  ipv4Attribute,
  newRequestAuthenticator,
  type RadiusAttribute,
  textAttribute,
  verifyReply,
} from '../radius/index.ts';

/**
 * A small RADIUS client for the CLI (`test-auth`, `check`): one connected UDP socket, requests
 * signed with Message-Authenticator first, and replies accepted only when both the Response
 * Authenticator and a Message-Authenticator verify. A forged or garbled datagram does not end the
 * wait: the genuine reply may still come; its reason is reported only if nothing authentic does.
 */

export interface RadiusTarget {
  host: string;
  port: number;
}

export interface AccessRequestInput {
  username: string;
  password: string;
  state?: Uint8Array;
}

export type ExchangeOutcome =
  | { kind: 'reply'; packet: DecodedPacket; ms: number }
  /** `detail`: why nothing authentic arrived, when known (a bad reply, ICMP port unreachable). */
  | { kind: 'no_reply'; detail?: string };

export interface RadiusClient {
  /** The local address the server sees: the natural NAS-IP-Address. */
  readonly localAddress: string;
  accessRequest(input: AccessRequestInput, timeoutMs: number): Promise<ExchangeOutcome>;
  statusServer(timeoutMs: number): Promise<ExchangeOutcome>;
  close(): void;
}

/** Retransmit the identical datagram this often (RFC 5080 §2.2.1: same Identifier and authenticator). */
const RESEND_MS = 10_000;
const NAS_IDENTIFIER = 'duo-relay-test-auth';

/** `host`, `host:port`, `[v6]` or `[v6]:port`; the port defaults to 1812. */
export function parseTarget(value: string, defaultPort = 1812): RadiusTarget | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+))(?::(\d{1,5}))?$/.exec(value);
  if (!m) return undefined;
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? m[2])!, port };
}

export async function createRadiusClient(target: RadiusTarget, secret: string): Promise<RadiusClient> {
  const key = new TextEncoder().encode(secret);
  const socket: Socket = createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(target.port, target.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  let identifier = Math.floor(Math.random() * 256);
  const localAddress = socket.address().address;

  async function exchange(
    code: number,
    build: (authenticator: Uint8Array) => RadiusAttribute[],
    timeoutMs: number,
  ): Promise<ExchangeOutcome> {
    identifier = (identifier + 1) & 0xff;
    const id = identifier;
    const authenticator = newRequestAuthenticator();
    const encoded = encodeRequest({ code, identifier: id, authenticator, attributes: build(authenticator) }, key);
    if (!encoded.ok) throw new Error(`cannot encode the request: ${encoded.error.reason}`);
    const bytes = encoded.value;
    const started = performance.now();
    return new Promise<ExchangeOutcome>((resolve) => {
      let invalid: string | undefined;
      const finish = (outcome: ExchangeOutcome) => {
        clearTimeout(deadline);
        clearInterval(resend);
        socket.off('message', onMessage);
        socket.off('error', onError);
        resolve(outcome);
      };
      const onMessage = (msg: Buffer) => {
        const decoded = decodePacket(msg);
        if (!decoded.ok) {
          invalid = `undecodable reply (${decoded.error.reason})`;
          return;
        }
        if (decoded.value.identifier !== id) return;
        const check = verifyReply(decoded.value, { identifier: id, authenticator }, key);
        if (!check.ok) {
          invalid = `reply failed verification (${check.error}): is the secret right?`;
          return;
        }
        finish({ kind: 'reply', packet: decoded.value, ms: Math.round(performance.now() - started) });
      };
      // ICMP port unreachable surfaces as ECONNREFUSED on a connected socket: nothing will answer.
      const onError = (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED')
          finish({ kind: 'no_reply', detail: 'nothing listens there (port unreachable)' });
        else invalid = error.message;
      };
      const send = () => socket.send(bytes, (error) => error && onError(error as NodeJS.ErrnoException));
      socket.on('message', onMessage);
      socket.on('error', onError);
      const deadline = setTimeout(
        () => finish({ kind: 'no_reply', ...(invalid ? { detail: invalid } : {}) }),
        timeoutMs,
      );
      const resend = setInterval(send, RESEND_MS);
      send();
    });
  }

  return {
    localAddress,
    accessRequest(input, timeoutMs) {
      return exchange(
        Code.AccessRequest,
        (authenticator) => {
          const hidden = hidePassword(input.password, key, authenticator);
          if (!hidden.ok) throw new Error('password longer than 128 bytes');
          const nasIp = ipv4Attribute(Attr.NasIpAddress, localAddress);
          return [
            textAttribute(Attr.UserName, input.username),
            { type: Attr.UserPassword, value: hidden.value },
            ...(nasIp ? [nasIp] : []),
            textAttribute(Attr.NasIdentifier, NAS_IDENTIFIER),
            ...(input.state ? [{ type: Attr.State, value: input.state }] : []),
          ];
        },
        timeoutMs,
      );
    },
    statusServer(timeoutMs) {
      return exchange(Code.StatusServer, () => [textAttribute(Attr.NasIdentifier, NAS_IDENTIFIER)], timeoutMs);
    },
    close() {
      socket.close();
    },
  };
}
