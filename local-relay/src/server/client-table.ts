import { BlockList, isIP } from 'node:net';
import type { RadiusClientEntry } from './types.ts';

interface Row {
  entry: RadiusClientEntry;
  prefix: number;
  family: 'ipv4' | 'ipv6';
  block: BlockList;
}

/** Clients by source address; RFC 2865 §3 picks the secret by source IP, most specific CIDR first. */
export class ClientTable {
  readonly #rows: Row[];

  constructor(entries: ReadonlyArray<RadiusClientEntry>) {
    this.#rows = entries.map(toRow).sort((a, b) => b.prefix - a.prefix);
  }

  lookup(address: string): RadiusClientEntry | undefined {
    const ip = unmapIpv4(address);
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    for (const row of this.#rows) if (row.family === family && row.block.check(ip, family)) return row.entry;
    return undefined;
  }
}

/** `::ffff:10.0.0.1` (a v4 peer on a dual-stack socket) is matched against v4 entries. */
export function unmapIpv4(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function toRow(entry: RadiusClientEntry): Row {
  const [addr = '', bits] = entry.cidr.split('/');
  const version = isIP(addr);
  if (version === 0) throw new Error(`client ${entry.name}: invalid address ${JSON.stringify(entry.cidr)}`);
  const max = version === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!/^\d+$/.test(bits ?? String(max)) || prefix > max) {
    throw new Error(`client ${entry.name}: invalid prefix length in ${JSON.stringify(entry.cidr)}`);
  }
  if (entry.secret.length === 0) throw new Error(`client ${entry.name}: empty secret`);
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const block = new BlockList();
  block.addSubnet(addr, prefix, family);
  return { entry, prefix, family, block };
}
