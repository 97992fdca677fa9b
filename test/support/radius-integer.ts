import type { RadiusAttribute } from '../../local-relay/src/radius/index.ts';

/** RFC 2865 §5 `integer` values: tests build and read them; the relay itself never does. */
export function integerAttribute(type: number, n: number): RadiusAttribute {
  const value = new Uint8Array(4);
  new DataView(value.buffer).setUint32(0, n >>> 0);
  return { type, value };
}

export function decodeInteger(value: Uint8Array): number | undefined {
  if (value.length !== 4) return undefined;
  return new DataView(value.buffer, value.byteOffset, 4).getUint32(0);
}
