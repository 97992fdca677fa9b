import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { RadiusUpstreamConfigInput } from '../../local-relay/src/primary/radius-upstream.ts';
import { radiusUpstreamConfigSchema } from '../../local-relay/src/primary/radius-upstream-config.ts';
import {
  Attr,
  computeResponseAuthenticator,
  type DecodedPacket,
  decodePacket,
  encodePacket,
  encodeReply,
  MICROSOFT_VENDOR_ID,
  MsAttr,
  type RadiusAttribute,
  textAttribute,
  vendorSpecific,
} from '../../local-relay/src/radius/index.ts';
import type { RadiusRawRequest } from '../../local-relay/src/server/types.ts';
import { generateNtResponse, msChap2ResponseValue } from './mschapv2.ts';
import { buildRequest } from './radclient.ts';

/** Shared pieces of the upstream-RADIUS primary tests (node and e2e). */

export const NAS_SECRET = 'nas-secret-0123456789abcdef';
export const enc = (s: string) => new TextEncoder().encode(s);

/** A pino logger whose lines land in `lines` (to assert on, and that no secret leaks). */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export function upstreamConfig(input: RadiusUpstreamConfigInput) {
  return radiusUpstreamConfigSchema.parse(input);
}

/** The NAS → relay request as the relay's server hands it over in `LoginRequest.raw`. */
export function nasRequest(opts: { username: string; password?: string; attributes?: RadiusAttribute[] }): {
  raw: RadiusRawRequest;
  packet: DecodedPacket;
} {
  const built = buildRequest({
    secret: NAS_SECRET,
    identifier: randomBytes(1)[0]!,
    username: opts.username,
    ...(opts.password === undefined ? {} : { password: opts.password }),
    attributes: opts.attributes ?? [],
  });
  const decoded = decodePacket(built.bytes);
  if (!decoded.ok) throw new Error('cannot decode own request');
  return { raw: { packet: decoded.value, secret: enc(NAS_SECRET), clientName: 'nas' }, packet: decoded.value };
}

/** A NAS request carrying an MS-CHAPv2 exchange computed for `password` (RFC 2759). */
export function msChapV2NasRequest(username: string, password: string) {
  const authenticatorChallenge = new Uint8Array(randomBytes(16));
  const peerChallenge = new Uint8Array(randomBytes(16));
  const ntResponse = generateNtResponse(authenticatorChallenge, peerChallenge, username, password);
  const vsa = (type: number, value: Uint8Array) => {
    const r = vendorSpecific(MICROSOFT_VENDOR_ID, type, value);
    if (!r.ok) throw new Error('vsa');
    return r.value;
  };
  const { raw, packet } = nasRequest({
    username,
    attributes: [
      vsa(MsAttr.MsChapChallenge, authenticatorChallenge),
      vsa(MsAttr.MsChap2Response, msChap2ResponseValue(7, peerChallenge, ntResponse)),
      textAttribute(Attr.NasIdentifier, 'vpn-1'),
    ],
  });
  return { raw, packet, authenticatorChallenge, peerChallenge, ntResponse, ident: 7 };
}

/** A UDP socket that reads every datagram and never answers (a hung upstream). */
export async function silentUdp(): Promise<{ port: number; received: () => number; close: () => Promise<void> }> {
  const socket = createSocket('udp4');
  let count = 0;
  socket.on('message', () => {
    count++;
  });
  await new Promise<void>((res) => socket.bind(0, '127.0.0.1', () => res()));
  return { port: socket.address().port, received: () => count, close: () => closeSocket(socket) };
}

/** A loopback UDP port with nothing bound to it (ICMP port unreachable, ignored by the client). */
export async function closedUdpPort(): Promise<number> {
  const s = await silentUdp();
  await s.close();
  return s.port;
}

/**
 * A UDP man-in-the-middle between the relay and a real upstream: requests pass unchanged, each
 * reply goes through `mutate` (which may rewrite the attributes) and gets a Response Authenticator
 * recomputed with `secret` — so only what `mutate` breaks is broken.
 */
export async function tamperingProxy(opts: {
  upstreamPort: number;
  secret: string;
  mutate: (reply: Uint8Array) => Uint8Array;
}): Promise<{ port: number; close: () => Promise<void> }> {
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  const origins = new Map<number, { port: number; authenticator: Uint8Array }>();
  front.on('message', (msg, rinfo) => {
    origins.set(msg[1]!, { port: rinfo.port, authenticator: new Uint8Array(msg.subarray(4, 20)) });
    back.send(msg, opts.upstreamPort, '127.0.0.1');
  });
  back.on('message', (msg) => {
    const origin = origins.get(msg[1]!);
    if (!origin) return;
    const out = opts.mutate(new Uint8Array(msg));
    out.set(computeResponseAuthenticator(out, origin.authenticator, enc(opts.secret)), 4);
    front.send(out, origin.port, '127.0.0.1');
  });
  await new Promise<void>((res) => front.bind(0, '127.0.0.1', () => res()));
  await new Promise<void>((res) => back.bind(0, '127.0.0.1', () => res()));
  return {
    port: front.address().port,
    close: async () => {
      await closeSocket(front);
      await closeSocket(back);
    },
  };
}

/** Flips one bit of the Message-Authenticator value (the packet must carry one). */
export function corruptMessageAuthenticator(bytes: Uint8Array): Uint8Array {
  const decoded = decodePacket(bytes);
  if (!decoded.ok) throw new Error('undecodable reply');
  let offset = 20;
  for (const a of decoded.value.attributes) {
    if (a.type === Attr.MessageAuthenticator) {
      const out = bytes.slice();
      out[offset + 2] = out[offset + 2]! ^ 0x01;
      return out;
    }
    offset += 2 + a.value.length;
  }
  throw new Error('reply has no Message-Authenticator');
}

/** Removes the Message-Authenticator attribute and fixes the Length. */
export function stripMessageAuthenticator(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [bytes.subarray(0, 20)];
  let offset = 20;
  const length = (bytes[2]! << 8) | bytes[3]!;
  while (offset < length) {
    const attrLength = bytes[offset + 1]!;
    if (bytes[offset] !== Attr.MessageAuthenticator) parts.push(bytes.subarray(offset, offset + attrLength));
    offset += attrLength;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  out[2] = out.length >> 8;
  out[3] = out.length & 0xff;
  return out;
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((res) => socket.close(() => res()));
}

export type FakeReply = {
  code: number;
  attributes?: RadiusAttribute[];
  ma?: 'valid' | 'none' | 'bad';
  secret?: string;
};

/**
 * An in-process upstream RADIUS server: records every datagram it receives (with its arrival
 * order) and answers what `answer` returns for it (nothing when undefined).
 */
export async function fakeUpstream(
  secret: string,
  answer: (request: DecodedPacket, index: number) => FakeReply | FakeReply[] | undefined = () => undefined,
): Promise<{
  port: number;
  received: DecodedPacket[];
  close: () => Promise<void>;
  /** Sends raw bytes to wherever the last request came from, from another socket. */
  socket: Socket;
}> {
  const socket = createSocket('udp4');
  const received: DecodedPacket[] = [];
  socket.on('message', (msg, rinfo) => {
    const decoded = decodePacket(new Uint8Array(msg));
    if (!decoded.ok) return;
    received.push(decoded.value);
    const replies = answer(decoded.value, received.length - 1);
    for (const r of replies === undefined ? [] : Array.isArray(replies) ? replies : [replies]) {
      socket.send(fakeReplyBytes(decoded.value, r, secret), rinfo.port, rinfo.address);
    }
  });
  await new Promise<void>((res) => socket.bind(0, '127.0.0.1', () => res()));
  return { port: socket.address().port, received, close: () => closeSocket(socket), socket };
}

export function fakeReplyBytes(request: DecodedPacket, reply: FakeReply, defaultSecret: string): Uint8Array {
  const secret = enc(reply.secret ?? defaultSecret);
  const attributes = reply.attributes ?? [];
  const ma = reply.ma ?? 'valid';
  if (ma === 'none') {
    const encoded = encodePacket({
      code: reply.code,
      identifier: request.identifier,
      authenticator: request.authenticator,
      attributes,
    });
    if (!encoded.ok) throw new Error('encode');
    encoded.value.set(computeResponseAuthenticator(encoded.value, request.authenticator, secret), 4);
    return encoded.value;
  }
  const encoded = encodeReply(
    { code: reply.code, identifier: request.identifier, attributes },
    request.authenticator,
    secret,
  );
  if (!encoded.ok) throw new Error('encode');
  if (ma === 'valid') return encoded.value;
  const bad = corruptMessageAuthenticator(encoded.value);
  bad.set(computeResponseAuthenticator(bad, request.authenticator, secret), 4);
  return bad;
}
