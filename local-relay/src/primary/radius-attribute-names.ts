import { MICROSOFT_VENDOR_ID, MsAttr } from '../radius/dictionary.ts';

/**
 * Names accepted in `pass_through_attr_names`, resolved once at config load. Names are the
 * FreeRADIUS / Duo (pyrad) dictionary spellings, matched case-insensitively. Vendor attributes
 * not named here are selected as `26:<vendor-id>` (every sub-attribute of that vendor) or
 * `26:<vendor-id>:<vendor-type>`; `Vendor-Specific` selects every VSA.
 */

export type AttributeSelector =
  | { kind: 'type'; type: number }
  | { kind: 'vendor'; vendorId: number; vendorType?: number }
  | { kind: 'any_vendor' };

const STANDARD: Record<string, number> = {
  'User-Name': 1,
  'Service-Type': 6,
  'Framed-Protocol': 7,
  'Framed-IP-Address': 8,
  'Framed-IP-Netmask': 9,
  'Framed-Routing': 10,
  'Filter-Id': 11,
  'Framed-MTU': 12,
  'Framed-Compression': 13,
  'Login-IP-Host': 14,
  'Login-Service': 15,
  'Login-TCP-Port': 16,
  'Reply-Message': 18,
  'Callback-Number': 19,
  'Callback-Id': 20,
  'Framed-Route': 22,
  'Framed-IPX-Network': 23,
  Class: 25,
  'Session-Timeout': 27,
  'Idle-Timeout': 28,
  'Termination-Action': 29,
  'Login-LAT-Service': 34,
  'Login-LAT-Node': 35,
  'Login-LAT-Group': 36,
  'Framed-AppleTalk-Link': 37,
  'Framed-AppleTalk-Network': 38,
  'Framed-AppleTalk-Zone': 39,
  'Port-Limit': 62,
  'Login-LAT-Port': 63,
  'Tunnel-Type': 64,
  'Tunnel-Medium-Type': 65,
  'Tunnel-Client-Endpoint': 66,
  'Tunnel-Server-Endpoint': 67,
  'Tunnel-Private-Group-Id': 81,
  'Tunnel-Assignment-Id': 82,
  'Tunnel-Preference': 83,
  'Acct-Interim-Interval': 85,
  'Framed-Pool': 88,
  'Tunnel-Client-Auth-Id': 90,
  'Tunnel-Server-Auth-Id': 91,
  'NAS-Filter-Rule': 92,
  'Framed-Interface-Id': 96,
  'Framed-IPv6-Prefix': 97,
  'Login-IPv6-Host': 98,
  'Framed-IPv6-Route': 99,
  'Framed-IPv6-Pool': 100,
  'Egress-VLANID': 56,
  'Ingress-Filters': 57,
  'Egress-VLAN-Name': 58,
  'Delegated-IPv6-Prefix': 123,
  'Framed-IPv6-Address': 168,
  'DNS-Server-IPv6-Address': 169,
  'Route-IPv6-Information': 170,
  'Delegated-IPv6-Prefix-Pool': 171,
  'Stateful-IPv6-Address-Pool': 172,
};

const VENDOR: Record<string, { vendorId: number; vendorType: number }> = {
  'MS-Primary-DNS-Server': { vendorId: MICROSOFT_VENDOR_ID, vendorType: 28 },
  'MS-Secondary-DNS-Server': { vendorId: MICROSOFT_VENDOR_ID, vendorType: 29 },
  'MS-Primary-NBNS-Server': { vendorId: MICROSOFT_VENDOR_ID, vendorType: 30 },
  'MS-Secondary-NBNS-Server': { vendorId: MICROSOFT_VENDOR_ID, vendorType: 31 },
  'Cisco-AVPair': { vendorId: 9, vendorType: 1 },
};

/**
 * Attributes that must never be copied byte-for-byte from the upstream reply: they are bound to
 * the upstream secret and request (Message-Authenticator, salt-encrypted Tunnel-Password), owned by
 * the relay's own reply (Proxy-State, State) or request-only. MS-CHAP reply attributes and the
 * MPPE keys travel on their own path (radius-mschap.ts), keys re-encrypted for the NAS.
 */
export const NEVER_PASSED = new Set<number>([2, 3, 24, 33, 69, 79, 80]);
export const MS_CHAP_OWNED = new Set<number>([
  MsAttr.MsChapError,
  7, // MS-MPPE-Encryption-Policy
  8, // MS-MPPE-Encryption-Types
  10, // MS-CHAP-Domain
  12, // MS-CHAP-MPPE-Keys (MS-CHAPv1, User-Password-style encryption)
  MsAttr.MsMppeSendKey,
  MsAttr.MsMppeRecvKey,
  MsAttr.MsChap2Success,
]);

const standardByName = new Map(Object.entries(STANDARD).map(([k, v]) => [k.toLowerCase(), v]));
const vendorByName = new Map(Object.entries(VENDOR).map(([k, v]) => [k.toLowerCase(), v]));

/** Resolves one configured name, or explains why it cannot be passed through. */
export function resolveAttributeName(
  name: string,
): { ok: true; selector: AttributeSelector } | { ok: false; message: string } {
  const trimmed = name.trim();
  const lower = trimmed.toLowerCase();
  if (lower === 'vendor-specific' || lower === '26') return { ok: true, selector: { kind: 'any_vendor' } };
  const standard = standardByName.get(lower);
  if (standard !== undefined) return { ok: true, selector: { kind: 'type', type: standard } };
  const vendor = vendorByName.get(lower);
  if (vendor) return { ok: true, selector: { kind: 'vendor', ...vendor } };
  const vsa = /^26:(\d{1,10})(?::(\d{1,3}))?$/.exec(trimmed);
  if (vsa) {
    const vendorId = Number(vsa[1]);
    const vendorType = vsa[2] === undefined ? undefined : Number(vsa[2]);
    if (vendorId > 0xffffffff || (vendorType !== undefined && vendorType > 255)) {
      return { ok: false, message: `${name}: vendor id or type out of range` };
    }
    if (vendorId === MICROSOFT_VENDOR_ID && (vendorType === undefined || MS_CHAP_OWNED.has(vendorType))) {
      return {
        ok: false,
        message: `${name}: MS-CHAP and MPPE key attributes are always carried for MS-CHAPv2 (keys re-encrypted); name other Microsoft attributes as 26:311:<type>`,
      };
    }
    return {
      ok: true,
      selector: vendorType === undefined ? { kind: 'vendor', vendorId } : { kind: 'vendor', vendorId, vendorType },
    };
  }
  if (/^ms-(chap|mppe)-/.test(lower)) {
    return {
      ok: false,
      message: `${name}: MS-CHAP and MPPE key attributes are always carried for MS-CHAPv2 (keys re-encrypted)`,
    };
  }
  return {
    ok: false,
    message: `${name}: unknown or non-passable attribute name (use a dictionary name, Vendor-Specific, 26:<vendor-id> or 26:<vendor-id>:<type>)`,
  };
}
