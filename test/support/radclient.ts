import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import {
  Attr,
  Code,
  encodePacket,
  encodeRequest,
  hidePassword,
  newRequestAuthenticator,
  type RadiusAttribute,
  textAttribute,
} from '../../local-relay/src/radius/index.ts';
import { runProcess } from './process.ts';

/**
 * Drives Debian's `radclient` (freeradius-utils) the way an admin would, through stdin, and parses
 * its `-x` transcript. radclient 3.2 verifies the Response Authenticator and, when present, the
 * reply's Message-Authenticator before printing "Received", so a parsed reply is an authentic one.
 */

export interface RadclientOptions {
  host?: string;
  port: number;
  secret: string;
  command?: 'auth' | 'status' | 'acct';
  /** radclient input lines, e.g. `User-Name = "alice"`; joined into one packet. */
  attributes?: string[];
  /** Adds `Message-Authenticator = 0x00` (radclient then computes it). Default true. */
  messageAuthenticator?: boolean;
  /** Seconds per try (-t) and retries (-r); defaults 2 and 1. */
  timeoutS?: number;
  retries?: number;
  extraArgs?: string[];
}

export interface RadclientReply {
  /** e.g. `Access-Accept`; undefined when no (valid) reply arrived. */
  code?: string;
  id?: number;
  /** Reply attributes in order, string values unquoted. */
  attributes: Array<{ name: string; value: string }>;
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export async function radclient(opts: RadclientOptions): Promise<RadclientReply> {
  const lines = [...(opts.attributes ?? [])];
  if (opts.messageAuthenticator !== false && !lines.some((l) => l.startsWith('Message-Authenticator'))) {
    lines.push('Message-Authenticator = 0x00');
  }
  const timeoutS = opts.timeoutS ?? 2;
  const retries = opts.retries ?? 1;
  const args = [
    '-x',
    '-t',
    String(timeoutS),
    '-r',
    String(retries),
    ...(opts.extraArgs ?? []),
    `${opts.host ?? '127.0.0.1'}:${opts.port}`,
    opts.command ?? 'auth',
    opts.secret,
  ];
  const { stdout, stderr, code } = await runProcess('radclient', args, {
    input: `${lines.join(', ')}\n`,
    killAfterMs: (timeoutS * (retries + 1) + 5) * 1000,
  });
  return { ...parseTranscript(stdout), exitCode: code, stdout, stderr };
}

export function parseTranscript(stdout: string): Pick<RadclientReply, 'code' | 'id' | 'attributes'> {
  const out: Pick<RadclientReply, 'code' | 'id' | 'attributes'> = { attributes: [] };
  let inReply = false;
  for (const line of stdout.split('\n')) {
    const received = /^Received (\S+) Id (\d+)/.exec(line);
    if (received) {
      out.code = received[1]!;
      out.id = Number(received[2]);
      out.attributes = [];
      inReply = true;
      continue;
    }
    if (!line.startsWith('\t')) {
      inReply = false;
      continue;
    }
    const attr = /^\t(\S+) = (.*)$/.exec(line);
    if (inReply && attr) out.attributes.push({ name: attr[1]!, value: unquote(attr[2]!) });
  }
  return out;
}

/** radclient prints strings quoted, with \n, \r, \t and backslash escapes. */
function unquote(v: string): string {
  const control: Record<string, string> = { n: '\n', r: '\r', t: '\t' };
  return v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, (_, c: string) => control[c] ?? c) : v;
}

/**
 * The same client role at the byte level, for what radclient cannot do: replay exact bytes from a
 * fixed source port, forge bad Message-Authenticators, inspect reply bytes.
 */
export interface UdpPeer {
  port: number;
  send(bytes: Uint8Array, port: number, host?: string): void;
  /** Next datagram received, or undefined after timeoutMs. */
  next(timeoutMs?: number): Promise<Uint8Array | undefined>;
  close(): Promise<void>;
}

export function openUdpPeer(bindAddress = '127.0.0.1'): Promise<UdpPeer> {
  const socket = createSocket(isIPv6(bindAddress) ? 'udp6' : 'udp4');
  const queue: Uint8Array[] = [];
  const waiters: Array<(b: Uint8Array | undefined) => void> = [];
  socket.on('message', (msg) => {
    const w = waiters.shift();
    if (w) w(new Uint8Array(msg));
    else queue.push(new Uint8Array(msg));
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, bindAddress, () => {
      resolve({
        port: socket.address().port,
        send: (bytes, port, host = isIPv6(bindAddress) ? '::1' : '127.0.0.1') => socket.send(bytes, port, host),
        next: (timeoutMs = 2000) => {
          const queued = queue.shift();
          if (queued) return Promise.resolve(queued);
          return new Promise((res) => {
            const waiter = (b: Uint8Array | undefined) => {
              clearTimeout(timer);
              res(b);
            };
            const timer = setTimeout(() => {
              waiters.splice(waiters.indexOf(waiter), 1);
              res(undefined);
            }, timeoutMs);
            waiters.push(waiter);
          });
        },
        close: () => new Promise((res) => socket.close(() => res())),
      });
    });
  });
}

export interface BuildRequestOptions {
  secret: Uint8Array | string;
  identifier?: number;
  /** Fresh CSPRNG value by default. */
  authenticator?: Uint8Array;
  code?: number;
  username?: string;
  password?: string;
  /** Appended after User-Name/User-Password, in order. */
  attributes?: RadiusAttribute[];
  /** Default true: Message-Authenticator first and signed. */
  messageAuthenticator?: boolean;
}

/** A client-side Access-Request (or Status-Server) built with the relay's own codec. */
export function buildRequest(opts: BuildRequestOptions): {
  bytes: Uint8Array;
  authenticator: Uint8Array;
  identifier: number;
} {
  const secret = typeof opts.secret === 'string' ? new TextEncoder().encode(opts.secret) : opts.secret;
  const authenticator = opts.authenticator ?? newRequestAuthenticator();
  const identifier = opts.identifier ?? 1;
  const attributes: RadiusAttribute[] = [];
  if (opts.username !== undefined) attributes.push(textAttribute(Attr.UserName, opts.username));
  if (opts.password !== undefined) {
    const hidden = hidePassword(opts.password, secret, authenticator);
    if (!hidden.ok) throw new Error(`cannot hide password: ${hidden.error.reason}`);
    attributes.push({ type: Attr.UserPassword, value: hidden.value });
  }
  attributes.push(...(opts.attributes ?? []));
  const packet = { code: opts.code ?? Code.AccessRequest, identifier, authenticator, attributes };
  const encoded = opts.messageAuthenticator === false ? encodePacket(packet) : encodeRequest(packet, secret);
  if (!encoded.ok) throw new Error(`cannot encode request: ${encoded.error.reason}`);
  return { bytes: encoded.value, authenticator, identifier };
}
