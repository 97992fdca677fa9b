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
  /**
   * Answers by source address as the socket reports it. A NAS sends from one address, so after
   * the first packet a lookup is one Map get instead of parsing the address and walking every
   * row's BlockList. Unknown sources are cached too (null), for floods; spoofed sources could
   * make up endless addresses, so the cache is simply emptied when it reaches its bound.
   */
  readonly #cache = new Map<string, RadiusClientEntry | null>();
  static readonly MAX_CACHED = 4_096;

  constructor(entries: ReadonlyArray<RadiusClientEntry>) {
    this.#rows = entries.map(toRow).sort((a, b) => b.prefix - a.prefix);
  }

  lookup(address: string): RadiusClientEntry | undefined {
    const cached = this.#cache.get(address);
    if (cached !== undefined) return cached ?? undefined;
    const entry = this.#match(address);
    if (this.#cache.size >= ClientTable.MAX_CACHED) this.#cache.clear();
    this.#cache.set(address, entry ?? null);
    return entry;
  }

  #match(address: string): RadiusClientEntry | undefined {
    const ip = unmapIpv4(address);
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    for (const row of this.#rows) if (row.family === family && row.block.check(ip, family)) return row.entry;
    return undefined;
  }
}

/** `::ffff:10.0.0.1` (a v4 peer on a dual-stack socket) is matched against v4 entries. */
export function unmapIpv4(address: string): string {
  // Runs per datagram: most sources are plain v4 and leave on the first check.
  if (!address.startsWith('::')) return address;
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
