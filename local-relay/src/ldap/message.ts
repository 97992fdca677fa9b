import { err, ok, type Result } from '@duo-edge/contract/result';
import {
  type BerError,
  children,
  content,
  octets,
  readSmallUint,
  readTlv,
  type Tlv,
  tlv,
  uintBytes,
  validateTree,
} from './ber.ts';

/**
 * The LDAPMessage envelope (RFC 4511 4.1.1) and the few operations the relay reads or writes:
 * BindRequest/BindResponse, the StartTLS extended operation, the Notice of Disconnection. Every
 * other operation is framed and passed through as the bytes that arrived.
 */

export const OP = {
  bindRequest: 0x60,
  bindResponse: 0x61,
  unbindRequest: 0x42,
  searchRequest: 0x63,
  abandonRequest: 0x50,
  extendedRequest: 0x77,
  extendedResponse: 0x78,
} as const;

export const RESULT = {
  success: 0,
  protocolError: 2,
  authMethodNotSupported: 7,
  saslBindInProgress: 14,
  invalidCredentials: 49,
  busy: 51,
  unavailable: 52,
  unwillingToPerform: 53,
} as const;

export const STARTTLS_OID = '1.3.6.1.4.1.1466.20037';
const NOTICE_OF_DISCONNECTION_OID = '1.3.6.1.4.1.1466.20036';

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const ENUMERATED = 0x0a;
const OCTET_STRING = 0x04;
const CONTROLS = 0xa0;
const SIMPLE_AUTH = 0x80;
const SASL_AUTH = 0xa3;
const EXTENDED_REQUEST_NAME = 0x80;
const EXTENDED_RESPONSE_NAME = 0x8a;

export interface Envelope {
  messageId: number;
  /** Identifier octet of the protocolOp. */
  opTag: number;
  op: Tlv;
  /** The raw `[0] Controls` element, when present. */
  controls?: Tlv;
}

/**
 * One whole LDAPMessage: SEQUENCE { messageID, protocolOp, [0] controls OPTIONAL } and nothing
 * after it. With `maxDepth`, every element nested in it is checked too (requests from clients).
 */
export function decodeEnvelope(msg: Uint8Array, maxDepth?: number): Result<Envelope, BerError> {
  const outer = readTlv(msg, 0, msg.length);
  if (!outer.ok) return outer;
  if (outer.value.tag !== SEQUENCE) return err('unexpected_tag');
  if (outer.value.end !== msg.length) return err('trailing_bytes');
  if (maxDepth !== undefined) {
    const tree = validateTree(msg, outer.value, maxDepth);
    if (!tree.ok) return tree;
  }
  const parts = children(msg, outer.value);
  if (!parts.ok) return parts;
  const [id, op, controls, extra] = parts.value;
  if (!id || !op || extra) return err(extra ? 'trailing_bytes' : 'truncated');
  if (id.tag !== INTEGER) return err('unexpected_tag');
  const messageId = readSmallUint(msg, id);
  if (!messageId.ok) return messageId;
  // protocolOp is an APPLICATION-class choice.
  if ((op.tag & 0xc0) !== 0x40) return err('unexpected_tag');
  if (controls && controls.tag !== CONTROLS) return err('unexpected_tag');
  return ok({ messageId: messageId.value, opTag: op.tag, op, ...(controls ? { controls } : {}) });
}

export type BindAuth = { kind: 'simple'; password: Uint8Array } | { kind: 'sasl' } | { kind: 'other' };

export interface BindRequest {
  version: number;
  /** The LDAPDN as sent (UTF-8 bytes), re-sent upstream unchanged. */
  name: Uint8Array;
  auth: BindAuth;
}

export function decodeBindRequest(msg: Uint8Array, env: Envelope): Result<BindRequest, BerError> {
  if (env.opTag !== OP.bindRequest) return err('unexpected_tag');
  const parts = children(msg, env.op);
  if (!parts.ok) return parts;
  const [version, name, auth, extra] = parts.value;
  if (!version || !name || !auth || extra) return err(extra ? 'trailing_bytes' : 'truncated');
  if (version.tag !== INTEGER || name.tag !== OCTET_STRING) return err('unexpected_tag');
  const v = readSmallUint(msg, version);
  if (!v.ok) return v;
  const kind: BindAuth =
    auth.tag === SIMPLE_AUTH
      ? { kind: 'simple', password: content(msg, auth) }
      : auth.tag === SASL_AUTH
        ? { kind: 'sasl' }
        : { kind: 'other' };
  return ok({ version: v.value, name: content(msg, name), auth: kind });
}

/** The resultCode of an LDAPResult-shaped response (BindResponse, ExtendedResponse). */
export function decodeResultCode(msg: Uint8Array, env: Envelope): Result<number, BerError> {
  const parts = children(msg, env.op);
  if (!parts.ok) return parts;
  const code = parts.value[0];
  if (!code) return err('truncated');
  if (code.tag !== ENUMERATED) return err('unexpected_tag');
  return readSmallUint(msg, code);
}

/** The requestName of an ExtendedRequest. */
export function extendedRequestName(msg: Uint8Array, env: Envelope): Result<string, BerError> {
  const parts = children(msg, env.op);
  if (!parts.ok) return parts;
  const name = parts.value[0];
  if (!name) return err('truncated');
  if (name.tag !== EXTENDED_REQUEST_NAME) return err('unexpected_tag');
  return ok(new TextDecoder().decode(content(msg, name)));
}

// ---- encoding --------------------------------------------------------------------------------

function message(messageId: number, op: Uint8Array, controls?: Uint8Array): Uint8Array {
  return tlv(SEQUENCE, tlv(INTEGER, uintBytes(messageId)), op, ...(controls ? [controls] : []));
}

function ldapResult(code: number, diagnostic: string): Uint8Array[] {
  return [tlv(ENUMERATED, uintBytes(code)), octets(OCTET_STRING, ''), octets(OCTET_STRING, diagnostic)];
}

export function encodeBindResponse(messageId: number, code: number, diagnostic: string): Uint8Array {
  return message(messageId, tlv(OP.bindResponse, ...ldapResult(code, diagnostic)));
}

/** A simple bind; `controls` is the raw `[0]` element of the request it stands in for. */
export function encodeSimpleBind(
  messageId: number,
  name: Uint8Array,
  password: Uint8Array,
  controls?: Uint8Array,
): Uint8Array {
  const op = tlv(OP.bindRequest, tlv(INTEGER, uintBytes(3)), tlv(OCTET_STRING, name), tlv(SIMPLE_AUTH, password));
  return message(messageId, op, controls);
}

export function encodeExtendedRequest(messageId: number, oid: string): Uint8Array {
  return message(messageId, tlv(OP.extendedRequest, octets(EXTENDED_REQUEST_NAME, oid)));
}

export function encodeExtendedResponse(messageId: number, code: number, diagnostic: string, oid?: string) {
  const name = oid === undefined ? [] : [octets(EXTENDED_RESPONSE_NAME, oid)];
  return message(messageId, tlv(OP.extendedResponse, ...ldapResult(code, diagnostic), ...name));
}

/** Unsolicited (message ID 0), sent just before the relay drops a connection (RFC 4511 4.4.1). */
export function encodeNoticeOfDisconnection(code: number, diagnostic: string): Uint8Array {
  return encodeExtendedResponse(0, code, diagnostic, NOTICE_OF_DISCONNECTION_OID);
}
