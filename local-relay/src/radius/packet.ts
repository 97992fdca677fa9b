import { err, ok, type Result } from '@duo-edge/contract/result';
import type { RawAttribute } from '../primary/types.ts';
import {
  Attr,
  AUTHENTICATOR_LENGTH,
  HEADER_LENGTH,
  MAX_ATTRIBUTE_VALUE_LENGTH,
  MAX_PACKET_LENGTH,
  MIN_PACKET_LENGTH,
} from './dictionary.ts';

/** One attribute as it sits on the wire: unknown types and Vendor-Specific stay raw bytes. */
export type RadiusAttribute = RawAttribute;

export interface RadiusPacket {
  code: number;
  identifier: number;
  /** 16 octets: Request Authenticator in requests, Response Authenticator in replies. */
  authenticator: Uint8Array;
  /** In wire order; same-type order is significant (RFC 2865 §5). */
  attributes: RadiusAttribute[];
}

/** A packet produced by `decodePacket`: `bytes` is the datagram cut to the Length field. */
export interface DecodedPacket extends RadiusPacket {
  bytes: Uint8Array;
}

export type DecodeError =
  | { reason: 'datagram_too_short'; length: number }
  | { reason: 'bad_length_field'; length: number }
  | { reason: 'truncated'; length: number; available: number }
  | { reason: 'bad_attribute_length'; offset: number }
  | { reason: 'attribute_overflows_packet'; offset: number }
  | { reason: 'bad_message_authenticator'; detail: 'length' | 'duplicate' };

export type EncodeError =
  | { reason: 'attribute_too_long'; type: number; length: number }
  | { reason: 'bad_attribute_type'; type: number }
  | { reason: 'packet_too_long'; length: number }
  | { reason: 'bad_header'; field: 'code' | 'identifier' | 'authenticator' };

/**
 * Decodes one RADIUS datagram. Never throws: any input yields a packet or a typed error.
 * Octets past the Length field are padding (RFC 2865 §3) and are dropped from `bytes`.
 */
export function decodePacket(datagram: Uint8Array): Result<DecodedPacket, DecodeError> {
  if (datagram.length < MIN_PACKET_LENGTH) return err({ reason: 'datagram_too_short', length: datagram.length });
  const length = (datagram[2]! << 8) | datagram[3]!;
  if (length < MIN_PACKET_LENGTH || length > MAX_PACKET_LENGTH) return err({ reason: 'bad_length_field', length });
  if (datagram.length < length) return err({ reason: 'truncated', length, available: datagram.length });
  // One private copy of the packet (a plain Uint8Array, not a Buffer); the authenticator and the
  // attribute values are views into it. They never alias the caller's receive buffer, and a packet
  // held while its login waits on a push costs one allocation instead of one per attribute.
  const bytes = new Uint8Array(length);
  bytes.set(datagram.subarray(0, length));
  const attributes: RadiusAttribute[] = [];
  let seenMessageAuthenticator = false;
  let offset = HEADER_LENGTH;
  while (offset < length) {
    if (offset + 2 > length) return err({ reason: 'attribute_overflows_packet', offset });
    const type = bytes[offset]!;
    const attrLength = bytes[offset + 1]!;
    if (attrLength < 2) return err({ reason: 'bad_attribute_length', offset });
    if (offset + attrLength > length) return err({ reason: 'attribute_overflows_packet', offset });
    if (type === Attr.MessageAuthenticator) {
      // RFC 3579 §3.2: Length 18; a second copy would make verification ambiguous.
      if (attrLength !== 2 + AUTHENTICATOR_LENGTH)
        return err({ reason: 'bad_message_authenticator', detail: 'length' });
      if (seenMessageAuthenticator) return err({ reason: 'bad_message_authenticator', detail: 'duplicate' });
      seenMessageAuthenticator = true;
    }
    attributes.push({ type, value: bytes.subarray(offset + 2, offset + attrLength) });
    offset += attrLength;
  }
  return ok({
    code: bytes[0]!,
    identifier: bytes[1]!,
    authenticator: bytes.subarray(4, HEADER_LENGTH),
    attributes,
    bytes,
  });
}

/** Serialises a packet as given (no authenticator computation: see request.ts / reply.ts). */
export function encodePacket(packet: RadiusPacket): Result<Uint8Array, EncodeError> {
  if (!isOctet(packet.code)) return err({ reason: 'bad_header', field: 'code' });
  if (!isOctet(packet.identifier)) return err({ reason: 'bad_header', field: 'identifier' });
  if (packet.authenticator.length !== AUTHENTICATOR_LENGTH)
    return err({ reason: 'bad_header', field: 'authenticator' });
  let length = HEADER_LENGTH;
  for (const a of packet.attributes) {
    if (!isOctet(a.type)) return err({ reason: 'bad_attribute_type', type: a.type });
    if (a.value.length > MAX_ATTRIBUTE_VALUE_LENGTH) {
      return err({ reason: 'attribute_too_long', type: a.type, length: a.value.length });
    }
    length += 2 + a.value.length;
  }
  if (length > MAX_PACKET_LENGTH) return err({ reason: 'packet_too_long', length });
  // Carved from Buffer's pool (every byte is written below): encoded packets go to a socket, and
  // a small `new Uint8Array` lives on the V8 heap, which the send would first move off with a
  // malloc of its own per packet. Still handed out as a plain Uint8Array.
  const pooled = Buffer.allocUnsafe(length);
  const out = new Uint8Array(pooled.buffer, pooled.byteOffset, length);
  out[0] = packet.code;
  out[1] = packet.identifier;
  out[2] = length >> 8;
  out[3] = length & 0xff;
  out.set(packet.authenticator, 4);
  let offset = HEADER_LENGTH;
  for (const a of packet.attributes) {
    out[offset] = a.type;
    out[offset + 1] = a.value.length + 2;
    out.set(a.value, offset + 2);
    offset += 2 + a.value.length;
  }
  return ok(out);
}

/** First value of an attribute type, or undefined. */
export function getAttribute(packet: Pick<RadiusPacket, 'attributes'>, type: number): Uint8Array | undefined {
  for (const a of packet.attributes) if (a.type === type) return a.value;
  return undefined;
}

/** All values of an attribute type, in wire order. */
export function getAttributes(packet: Pick<RadiusPacket, 'attributes'>, type: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const a of packet.attributes) if (a.type === type) out.push(a.value);
  return out;
}

/**
 * Byte offset of the Message-Authenticator value inside an encoded packet, or -1. The caller must
 * pass bytes that `decodePacket` accepted (or that `encodePacket` produced).
 */
export function messageAuthenticatorOffset(bytes: Uint8Array): number {
  const length = Math.min(bytes.length, (bytes[2]! << 8) | bytes[3]!);
  let offset = HEADER_LENGTH;
  while (offset + 2 <= length) {
    const attrLength = bytes[offset + 1]!;
    if (attrLength < 2) return -1;
    if (bytes[offset] === Attr.MessageAuthenticator) return offset + 2;
    offset += attrLength;
  }
  return -1;
}

function isOctet(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 255;
}
