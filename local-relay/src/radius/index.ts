/** The RADIUS codec: pure packet and crypto functions, no I/O, no runtime dependency. */
export { computeResponseAuthenticator, newRequestAuthenticator, verifyResponseAuthenticator } from './authenticator.ts';
export * from './dictionary.ts';
export {
  checkMessageAuthenticator,
  computeMessageAuthenticator,
  type MessageAuthenticatorCheck,
  signMessageAuthenticator,
} from './message-authenticator.ts';
export { decryptMppeKey, encryptMppeKey, type MppeError } from './mppe.ts';
export {
  type DecodedPacket,
  type DecodeError,
  decodePacket,
  type EncodeError,
  encodePacket,
  getAttribute,
  getAttributes,
  messageAuthenticatorOffset,
  type RadiusAttribute,
  type RadiusPacket,
} from './packet.ts';
export { hidePassword, type PasswordError, unhidePassword } from './password.ts';
export { encodeReply, type ReplyCheckError, type ReplyInput, verifyReply } from './reply.ts';
export { encodeRequest, type RequestInput } from './request.ts';
export * from './values.ts';
export * from './vsa.ts';
