import { err, ok, type Result } from '@duo-edge/contract/result';
import { Attr, MICROSOFT_VENDOR_ID, MsAttr } from '../radius/dictionary.ts';
import { decryptMppeKey, encryptMppeKey, type MppeError } from '../radius/mppe.ts';
import type { RadiusAttribute } from '../radius/packet.ts';
import { parseVendorSpecific, vendorSpecific } from '../radius/vsa.ts';
import { MS_CHAP_OWNED } from './radius-attribute-names.ts';

/**
 * MS-CHAPv2 through the upstream primary (RFC 2548). The relay cannot check an MS-CHAPv2 response
 * itself, so the NAS's MS-CHAP-Challenge and MS-CHAP2-Response go upstream unchanged, and the
 * upstream's answer comes back: MS-CHAP2-Success (or MS-CHAP-Error), MS-CHAP-Domain, the MPPE
 * policy and types, and the MPPE keys. The keys are salt-encrypted with the secret and the Request
 * Authenticator of the hop they travel (RFC 2548 §2.4.2), so they are decrypted with the upstream
 * hop's and encrypted again for the NAS's.
 */

/** The NAS request's VSAs carrying MS-CHAP-Challenge and MS-CHAP2-Response, or undefined if not MS-CHAPv2. */
export function msChapV2RequestAttributes(attributes: ReadonlyArray<RadiusAttribute>): RadiusAttribute[] | undefined {
  const carried: RadiusAttribute[] = [];
  let challenge = false;
  let response = false;
  for (const a of attributes) {
    if (a.type !== Attr.VendorSpecific) continue;
    const subs = parseVendorSpecific(a.value);
    if (!subs || subs[0]?.vendorId !== MICROSOFT_VENDOR_ID) continue;
    const hasChallenge = subs.some((s) => s.vendorType === MsAttr.MsChapChallenge);
    const hasResponse = subs.some((s) => s.vendorType === MsAttr.MsChap2Response);
    if (hasChallenge || hasResponse) carried.push(a);
    challenge ||= hasChallenge;
    response ||= hasResponse;
  }
  return challenge && response ? carried : undefined;
}

export interface Hop {
  secret: Uint8Array;
  /** Request Authenticator of the request the reply answers. */
  authenticator: Uint8Array;
}

export type MsChapReplyError = { reason: 'mppe_key'; vendorType: number; error: MppeError | { reason: 'no_nas_hop' } };

/**
 * The Microsoft reply attributes the NAS needs, one sub-attribute per VSA, in reply order. Without
 * the NAS hop (no raw request) MPPE keys cannot be re-encrypted: that is an error, since a NAS
 * that asked for MS-CHAPv2 keys must not silently get an Accept without them.
 */
export function msChapReplyAttributes(
  reply: ReadonlyArray<RadiusAttribute>,
  upstream: Hop,
  nas: Hop | undefined,
): Result<RadiusAttribute[], MsChapReplyError> {
  const out: RadiusAttribute[] = [];
  for (const a of reply) {
    if (a.type !== Attr.VendorSpecific) continue;
    for (const sub of parseVendorSpecific(a.value) ?? []) {
      if (sub.vendorId !== MICROSOFT_VENDOR_ID || !MS_CHAP_OWNED.has(sub.vendorType)) continue;
      let value = sub.value;
      if (sub.vendorType === MsAttr.MsMppeSendKey || sub.vendorType === MsAttr.MsMppeRecvKey) {
        if (!nas) return err({ reason: 'mppe_key', vendorType: sub.vendorType, error: { reason: 'no_nas_hop' } });
        const key = decryptMppeKey(value, upstream.secret, upstream.authenticator);
        if (!key.ok) return err({ reason: 'mppe_key', vendorType: sub.vendorType, error: key.error });
        const sealed = encryptMppeKey(key.value, nas.secret, nas.authenticator);
        key.value.fill(0);
        if (!sealed.ok) return err({ reason: 'mppe_key', vendorType: sub.vendorType, error: sealed.error });
        value = sealed.value;
      } else if (sub.vendorType === MS_CHAP_MPPE_KEYS) {
        // MS-CHAPv1 keys (User-Password-style encryption): MS-CHAPv1 is not proxied.
        continue;
      }
      const vsa = vendorSpecific(MICROSOFT_VENDOR_ID, sub.vendorType, value);
      if (vsa.ok) out.push(vsa.value);
    }
  }
  return ok(out);
}

const MS_CHAP_MPPE_KEYS = 12;
