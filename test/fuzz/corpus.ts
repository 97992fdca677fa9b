import { Attr, Code, encodePacket, hidePassword, type RadiusAttribute } from '../../local-relay/src/radius/index.ts';
import type { Prng } from './prng.ts';
import { refSign } from './reference.ts';

/** Who the fuzzed relay knows: one users-file user and the NAS's shared secret. */
export interface FuzzTarget {
  secret: Uint8Array;
  username: string;
  password: string;
}

export const DEFAULT_TARGET: FuzzTarget = {
  secret: new TextEncoder().encode('fuzz-shared-secret-0123456789abcdef'),
  username: 'alice',
  password: 'alice-pass',
};

const enc = new TextEncoder();

/**
 * A valid, signed Access-Request (sometimes a Status-Server) of the kind a NAS sends: User-Name,
 * hidden User-Password, NAS attributes, Message-Authenticator (usually first, sometimes elsewhere:
 * RFC 2865 §5 forbids depending on its position), and now and then State, Proxy-State, VSAs and
 * unknown types. Credentials are mostly the known user's; some are near misses.
 */
export function seedPacket(rng: Prng, target: FuzzTarget): Uint8Array {
  const code = rng.chance(0.03) ? Code.StatusServer : Code.AccessRequest;
  const identifier = rng.int(256);
  const authenticator = rng.bytes(16);
  const attrs: RadiusAttribute[] = [];
  if (code === Code.AccessRequest) {
    attrs.push({ type: Attr.UserName, value: username(rng, target) });
    const hidden = hidePassword(password(rng, target), target.secret, authenticator);
    if (hidden.ok) attrs.push({ type: Attr.UserPassword, value: hidden.value });
  }
  if (rng.chance(0.8)) attrs.push({ type: Attr.NasIpAddress, value: Uint8Array.of(192, 0, 2, rng.int(256)) });
  if (rng.chance(0.5)) attrs.push({ type: Attr.NasIdentifier, value: enc.encode(`nas-${rng.int(100)}`) });
  if (rng.chance(0.5)) attrs.push({ type: Attr.NasPort, value: rng.bytes(4) });
  if (rng.chance(0.5)) attrs.push({ type: Attr.CallingStationId, value: enc.encode(`198.51.100.${rng.int(256)}`) });
  if (rng.chance(0.2)) attrs.push({ type: Attr.CalledStationId, value: enc.encode('vpn.example') });
  if (rng.chance(0.1)) attrs.push({ type: Attr.State, value: rng.bytes(rng.range(1, 64)) });
  if (rng.chance(0.2)) {
    for (let i = rng.range(1, 3); i > 0; i--) attrs.push({ type: Attr.ProxyState, value: rng.bytes(rng.range(1, 32)) });
  }
  if (rng.chance(0.15)) attrs.push(vsa(rng));
  if (rng.chance(0.1)) attrs.push({ type: rng.range(192, 255), value: rng.bytes(rng.range(1, 40)) });
  if (!rng.chance(0.05)) {
    const ma = { type: Attr.MessageAuthenticator, value: new Uint8Array(16) };
    const where = rng.chance(0.7) ? 0 : rng.chance(0.66) ? attrs.length : rng.int(attrs.length + 1);
    attrs.splice(where, 0, ma);
  }
  const encoded = encodePacket({ code, identifier, authenticator, attributes: attrs });
  if (!encoded.ok) throw new Error(`seed packet does not encode: ${encoded.error.reason}`);
  refSign(encoded.value, target.secret);
  return encoded.value;
}

function username(rng: Prng, t: FuzzTarget): Uint8Array {
  const r = rng.int(100);
  if (r < 80) return enc.encode(t.username);
  if (r < 85) return enc.encode(t.username.toUpperCase());
  if (r < 88) return enc.encode(`${t.username} `);
  if (r < 90) return enc.encode(`\uFEFF${t.username}`);
  if (r < 93) return enc.encode('mallory');
  return rng.bytes(rng.range(1, 20));
}

/**
 * Right password, concat form, near misses (case, one char, embedded NUL, a UTF-8 byte-order mark
 * in front), wrong and random.
 */
function password(rng: Prng, t: FuzzTarget): Uint8Array {
  const r = rng.int(100);
  if (r < 55) return enc.encode(t.password);
  if (r < 60) return enc.encode(`${t.password},push`);
  if (r < 63) return enc.encode(`${t.password}\0`);
  if (r < 66) return enc.encode(t.password.toUpperCase());
  if (r < 69) return enc.encode(t.password.slice(0, -1));
  if (r < 72) return enc.encode(`${t.password}x`);
  if (r < 75) return enc.encode(`${t.password.slice(0, 3)}\0${t.password.slice(3)}`);
  if (r < 78) return new Uint8Array(0);
  if (r < 81) return enc.encode(`x,${t.password}`);
  if (r < 84) return enc.encode('a'.repeat(128));
  if (r < 86) return enc.encode(`\uFEFF${t.password}`);
  if (r < 90) return enc.encode('wrong-password');
  return rng.bytes(rng.range(1, 128));
}

function vsa(rng: Prng): RadiusAttribute {
  const vendor = rng.pick([9, 311, 25461, rng.u32()]);
  const inner = rng.bytes(rng.range(0, 30));
  const value = new Uint8Array(4 + 2 + inner.length);
  new DataView(value.buffer).setUint32(0, vendor);
  value[4] = rng.range(1, 30);
  value[5] = rng.chance(0.9) ? inner.length + 2 : rng.int(256);
  value.set(inner, 6);
  return { type: Attr.VendorSpecific, value };
}
