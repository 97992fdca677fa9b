import { MS_CHAP_OWNED } from '../primary/radius-attribute-names.ts';
import type { RawAttribute } from '../primary/types.ts';
import { Attr, MICROSOFT_VENDOR_ID } from '../radius/dictionary.ts';
import { parseVendorSpecific } from '../radius/vsa.ts';

/**
 * Primary reply attributes that may wait for a later request. MS-CHAP2-Success answers the
 * authenticator challenge of this request, and the MPPE keys are encrypted with this request's
 * Request Authenticator (RFC 2548 §2.4.2): put into the Accept of another request (after an
 * Access-Challenge) they would be wrong, so they are dropped and only the rest is kept.
 */
export function carryable(attributes: ReadonlyArray<RawAttribute> | undefined): RawAttribute[] | undefined {
  if (!attributes) return undefined;
  return attributes.filter((a) => {
    if (a.type !== Attr.VendorSpecific) return true;
    const subs = parseVendorSpecific(a.value);
    return !subs?.some((s) => s.vendorId === MICROSOFT_VENDOR_ID && MS_CHAP_OWNED.has(s.vendorType));
  });
}
