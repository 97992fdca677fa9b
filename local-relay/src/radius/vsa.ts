import { err, ok, type Result } from '@duo-edge/contract/result';
import { Attr, MAX_ATTRIBUTE_VALUE_LENGTH } from './dictionary.ts';
import type { RadiusAttribute } from './packet.ts';

/** One vendor sub-attribute in the RFC 2865 §5.26 recommended format. */
export interface VendorAttribute {
  vendorId: number;
  vendorType: number;
  value: Uint8Array;
}

/**
 * Splits one Vendor-Specific value into its sub-attributes. Returns undefined when the value does
 * not follow the recommended Vendor-Id + (type, length, value)* layout: such VSAs stay raw.
 */
export function parseVendorSpecific(value: Uint8Array): VendorAttribute[] | undefined {
  if (value.length < 4) return undefined;
  const vendorId = ((value[0]! << 24) | (value[1]! << 16) | (value[2]! << 8) | value[3]!) >>> 0;
  const out: VendorAttribute[] = [];
  let offset = 4;
  while (offset < value.length) {
    if (offset + 2 > value.length) return undefined;
    const length = value[offset + 1]!;
    if (length < 2 || offset + length > value.length) return undefined;
    out.push({ vendorId, vendorType: value[offset]!, value: value.slice(offset + 2, offset + length) });
    offset += length;
  }
  return out;
}

/** All well-formed vendor sub-attributes of a packet's attribute list, optionally for one vendor. */
export function vendorAttributes(attributes: ReadonlyArray<RadiusAttribute>, vendorId?: number): VendorAttribute[] {
  const out: VendorAttribute[] = [];
  for (const a of attributes) {
    if (a.type !== Attr.VendorSpecific) continue;
    for (const v of parseVendorSpecific(a.value) ?? [])
      if (vendorId === undefined || v.vendorId === vendorId) out.push(v);
  }
  return out;
}

/** First value of one vendor sub-attribute, or undefined. */
export function getVendorAttribute(
  attributes: ReadonlyArray<RadiusAttribute>,
  vendorId: number,
  vendorType: number,
): Uint8Array | undefined {
  return vendorAttributes(attributes, vendorId).find((v) => v.vendorType === vendorType)?.value;
}

export type VsaError = { reason: 'value_too_long'; length: number } | { reason: 'bad_vendor'; vendorId: number };

/** Builds one Vendor-Specific attribute holding a single sub-attribute. */
export function vendorSpecific(
  vendorId: number,
  vendorType: number,
  value: Uint8Array,
): Result<RadiusAttribute, VsaError> {
  if (!Number.isInteger(vendorId) || vendorId < 0 || vendorId > 0xffffffff)
    return err({ reason: 'bad_vendor', vendorId });
  if (6 + value.length > MAX_ATTRIBUTE_VALUE_LENGTH) return err({ reason: 'value_too_long', length: value.length });
  const out = new Uint8Array(6 + value.length);
  new DataView(out.buffer).setUint32(0, vendorId);
  out[4] = vendorType & 0xff;
  out[5] = value.length + 2;
  out.set(value, 6);
  return ok({ type: Attr.VendorSpecific, value: out });
}
