/**
 * The small dictionary the relay needs: packet codes (RFC 2865 §3, RFC 5997), standard attribute
 * types (RFC 2865 §5, RFC 2869, RFC 3579) and the Microsoft vendor attributes (RFC 2548).
 * Anything not named here is still carried as raw bytes.
 */

export const Code = {
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccountingRequest: 4,
  AccountingResponse: 5,
  AccessChallenge: 11,
  StatusServer: 12,
  StatusClient: 13,
} as const;

export const Attr = {
  UserName: 1,
  UserPassword: 2,
  ChapPassword: 3,
  NasIpAddress: 4,
  NasPort: 5,
  ServiceType: 6,
  FramedIpAddress: 8,
  FilterId: 11,
  ReplyMessage: 18,
  State: 24,
  Class: 25,
  VendorSpecific: 26,
  SessionTimeout: 27,
  IdleTimeout: 28,
  CalledStationId: 30,
  CallingStationId: 31,
  NasIdentifier: 32,
  ProxyState: 33,
  NasPortType: 61,
  Prompt: 76,
  EapMessage: 79,
  MessageAuthenticator: 80,
} as const;

/** Microsoft's SMI Network Management Private Enterprise Code (RFC 2548). */
export const MICROSOFT_VENDOR_ID = 311;

export const MsAttr = {
  MsChapError: 2,
  MsChapChallenge: 11,
  MsMppeSendKey: 16,
  MsMppeRecvKey: 17,
  MsChap2Response: 25,
  MsChap2Success: 26,
} as const;

/** RFC 2865 §3 bounds; RFC 2865 §5 caps one attribute at 255 octets including Type and Length. */
export const HEADER_LENGTH = 20;
export const MIN_PACKET_LENGTH = 20;
export const MAX_PACKET_LENGTH = 4096;
export const MAX_ATTRIBUTE_VALUE_LENGTH = 253;
export const AUTHENTICATOR_LENGTH = 16;
