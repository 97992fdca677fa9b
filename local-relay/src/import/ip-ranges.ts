import { isIP, isIPv4 } from 'node:net';
import { isIpOrCidr } from '../config/addresses.ts';

/**
 * Duo's `radius_ip_N` forms as the CIDR blocks the relay's `client.ip` takes: an address, a CIDR,
 * `address/netmask` (dotted), or an IPv4 range `first-last` (split into the fewest CIDR blocks).
 * undefined when the text is none of those.
 */
export function toCidrs(value: string): string[] | undefined {
  const text = value.trim();
  if (isIpOrCidr(text)) return [text];
  const masked = /^([\d.]+)\/([\d.]+)$/.exec(text);
  if (masked && isIPv4(masked[1]!) && isIPv4(masked[2]!)) {
    const prefix = netmaskPrefix(toInt(masked[2]!));
    return prefix === undefined ? undefined : [`${masked[1]}/${prefix}`];
  }
  const range = /^([\d.]+)\s*-\s*([\d.]+)$/.exec(text);
  if (range && isIPv4(range[1]!) && isIPv4(range[2]!)) {
    const first = toInt(range[1]!);
    const last = toInt(range[2]!);
    return first <= last ? rangeToCidrs(first, last) : undefined;
  }
  return isIP(text) ? [text] : undefined;
}

const toInt = (ip: string): number => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const toIp = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

function netmaskPrefix(mask: number): number | undefined {
  for (let prefix = 0; prefix <= 32; prefix++) {
    if (mask === 2 ** 32 - 2 ** (32 - prefix)) return prefix;
  }
  return undefined;
}

function rangeToCidrs(first: number, last: number): string[] {
  const out: string[] = [];
  let start = first;
  while (start <= last) {
    let size = 32;
    // The largest block aligned at `start` that stays inside the range.
    while (size > 0) {
      const block = 2 ** (32 - (size - 1));
      if (start % block !== 0 || start + block - 1 > last) break;
      size--;
    }
    out.push(size === 32 ? toIp(start) : `${toIp(start)}/${size}`);
    start += 2 ** (32 - size);
  }
  return out;
}
