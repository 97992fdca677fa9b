import { Attr, MICROSOFT_VENDOR_ID } from '../radius/dictionary.ts';
import type { RadiusAttribute } from '../radius/packet.ts';
import { parseVendorSpecific, vendorSpecific } from '../radius/vsa.ts';
import { type AttributeSelector, MS_CHAP_OWNED, NEVER_PASSED } from './radius-attribute-names.ts';

export interface PassThroughPolicy {
  selectors: ReadonlyArray<AttributeSelector>;
  all: boolean;
}

/**
 * The NAS request's attributes the admin named (`pass_through_attr_names`, Duo's both-ways rule) to
 * copy into the upstream Access-Request, leaving out types the relay already wrote (User-Name, the
 * password, the NAS attributes) and the hop-bound ones. `pass_through_all` is for replies only.
 */
export function selectRequestPassThrough(
  request: ReadonlyArray<RadiusAttribute>,
  selectors: ReadonlyArray<AttributeSelector>,
  written: ReadonlyArray<RadiusAttribute>,
): RadiusAttribute[] {
  const taken = new Set(written.map((a) => a.type).filter((t) => t !== Attr.VendorSpecific));
  // A Vendor-Specific the relay already forwarded (MS-CHAPv2's) is not sent twice.
  const sameBytes = (a: RadiusAttribute) =>
    written.some((w) => w.type === a.type && Buffer.from(w.value).equals(Buffer.from(a.value)));
  return selectPassThrough(
    request.filter((a) => !taken.has(a.type) && !sameBytes(a)),
    { selectors, all: false },
  );
}

/**
 * The upstream Access-Accept attributes that go into the relay's final Access-Accept, in reply
 * order (RFC 2865 §5: same-type order is kept). Hop-bound attributes never pass (NEVER_PASSED,
 * MS_CHAP_OWNED: the latter travel re-encrypted via radius-mschap.ts). `pass_through_all` leaves
 * out Reply-Message too: the relay writes its own, and the NAS would concatenate both; naming it
 * explicitly still passes it.
 */
export function selectPassThrough(reply: ReadonlyArray<RadiusAttribute>, policy: PassThroughPolicy): RadiusAttribute[] {
  if (!policy.all && policy.selectors.length === 0) return [];
  const out: RadiusAttribute[] = [];
  for (const a of reply) {
    if (a.type === Attr.VendorSpecific) {
      out.push(...selectVendor(a, policy));
    } else if (!NEVER_PASSED.has(a.type)) {
      const named = policy.selectors.some((s) => s.kind === 'type' && s.type === a.type);
      if (named || (policy.all && a.type !== Attr.ReplyMessage)) out.push(a);
    }
  }
  return out;
}

function selectVendor(a: RadiusAttribute, policy: PassThroughPolicy): RadiusAttribute[] {
  const everyVsa = policy.all || policy.selectors.some((s) => s.kind === 'any_vendor');
  const subs = parseVendorSpecific(a.value);
  if (!subs || subs.length === 0) {
    // Not in the RFC 2865 §5.26 layout: only a whole-vendor selection can take it, and never
    // Microsoft's, whose keys it might hide.
    if (a.value.length < 4) return [];
    const vendorId = new DataView(a.value.buffer, a.value.byteOffset, 4).getUint32(0);
    if (vendorId === MICROSOFT_VENDOR_ID) return [];
    const wholeVendor = policy.selectors.some(
      (s) => s.kind === 'vendor' && s.vendorId === vendorId && s.vendorType === undefined,
    );
    return everyVsa || wholeVendor ? [a] : [];
  }
  const picked = subs.filter((sub) => {
    if (sub.vendorId === MICROSOFT_VENDOR_ID && MS_CHAP_OWNED.has(sub.vendorType)) return false;
    if (everyVsa) return true;
    return policy.selectors.some(
      (s) =>
        s.kind === 'vendor' &&
        s.vendorId === sub.vendorId &&
        (s.vendorType === undefined || s.vendorType === sub.vendorType),
    );
  });
  if (picked.length === subs.length) return [a];
  const out: RadiusAttribute[] = [];
  for (const sub of picked) {
    const vsa = vendorSpecific(sub.vendorId, sub.vendorType, sub.value);
    if (vsa.ok) out.push(vsa.value);
  }
  return out;
}
