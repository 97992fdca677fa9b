import { describe, expect, it } from 'vitest';
import type { LoginFlow } from '../../local-relay/src/flow/types.ts';
import { ClientTable } from '../../local-relay/src/server/client-table.ts';
import { DedupCache } from '../../local-relay/src/server/dedup.ts';
import { RateLimiter } from '../../local-relay/src/server/rate-limit.ts';
import type { RadiusClientEntry } from '../../local-relay/src/server/types.ts';

const flow: LoginFlow = { handle: async () => ({ code: 'accept' }) };
const entry = (name: string, cidr: string): RadiusClientEntry => ({
  name,
  cidr,
  secret: new Uint8Array([1]),
  requireMessageAuthenticator: true,
  limitProxyState: false,
  flow,
});
const auth = (n: number) => new Uint8Array(16).fill(n);

describe('ClientTable', () => {
  const table = new ClientTable([
    entry('wide', '10.0.0.0/8'),
    entry('host', '10.1.2.3'),
    entry('mid', '10.1.0.0/16'),
    entry('v6net', '2001:db8::/32'),
    entry('v6host', '2001:db8::7/128'),
  ]);

  it('picks the most specific match whatever the configuration order', () => {
    expect(table.lookup('10.1.2.3')?.name).toBe('host');
    expect(table.lookup('10.1.9.9')?.name).toBe('mid');
    expect(table.lookup('10.200.0.1')?.name).toBe('wide');
    expect(table.lookup('2001:db8::7')?.name).toBe('v6host');
    expect(table.lookup('2001:db8::8')?.name).toBe('v6net');
  });

  it('matches v4-mapped v6 sources against v4 entries, and nothing else', () => {
    expect(table.lookup('::ffff:10.1.2.3')?.name).toBe('host');
    expect(table.lookup('192.0.2.1')).toBeUndefined();
    expect(table.lookup('::1')).toBeUndefined();
  });

  it('refuses bad CIDRs and empty secrets at construction', () => {
    expect(() => new ClientTable([entry('x', '10.0.0.0/33')])).toThrow(/prefix/);
    expect(() => new ClientTable([entry('x', 'not-an-ip')])).toThrow(/invalid address/);
    expect(() => new ClientTable([{ ...entry('x', '10.0.0.1'), secret: new Uint8Array() }])).toThrow(/empty secret/);
  });
});

describe('DedupCache (RFC 5080 §2.2.2)', () => {
  it('drops in-flight duplicates, replays answers until the TTL, then forgets them', () => {
    let now = 0;
    const cache = new DedupCache(30_000, 10, () => now);
    const key = DedupCache.key('10.0.0.1', 5000, 'L0', 7);
    expect(cache.begin(key, auth(1))).toEqual({ kind: 'new' });
    expect(cache.begin(key, auth(1))).toEqual({ kind: 'in_flight' });
    const reply = new Uint8Array([2, 7]);
    cache.complete(key, auth(1), reply);
    now = 29_999;
    expect(cache.begin(key, auth(1))).toEqual({ kind: 'replay', reply });
    now = 30_000;
    expect(cache.begin(key, auth(1))).toEqual({ kind: 'new' });
  });

  it('a new authenticator replaces the entry; the superseded answer is not cached', () => {
    const cache = new DedupCache(30_000, 10);
    const key = DedupCache.key('10.0.0.1', 5000, 'L0', 7);
    cache.begin(key, auth(1));
    expect(cache.begin(key, auth(2))).toEqual({ kind: 'new' });
    cache.complete(key, auth(1), new Uint8Array([1]));
    expect(cache.begin(key, auth(2))).toEqual({ kind: 'in_flight' });
    cache.complete(key, auth(2), new Uint8Array([2]));
    expect(cache.begin(key, auth(1))).toEqual({ kind: 'new' });
  });

  it('bounds answered entries (oldest out) but never evicts pending ones', () => {
    const cache = new DedupCache(30_000, 3);
    const keys = Array.from({ length: 6 }, (_, i) => DedupCache.key('10.0.0.1', 1000 + i, 'L0', 1));
    for (const k of keys) cache.begin(k, auth(1));
    for (const k of keys.slice(0, 5)) cache.complete(k, auth(1), new Uint8Array([1]));
    expect(cache.size()).toEqual({ pending: 1, answered: 3 });
    expect(cache.begin(keys[0]!, auth(1)).kind).toBe('new');
    expect(cache.begin(keys[4]!, auth(1)).kind).toBe('replay');
    expect(cache.begin(keys[5]!, auth(1)).kind).toBe('in_flight');
  });

  it('abandon lets a retransmit be processed again', () => {
    const cache = new DedupCache(30_000, 3);
    const key = DedupCache.key('::1', 1, 'L1', 200);
    cache.begin(key, auth(3));
    cache.abandon(key, auth(3));
    expect(cache.begin(key, auth(3)).kind).toBe('new');
  });
});

describe('RateLimiter', () => {
  it('allows one event per key per interval', () => {
    let now = 0;
    const limiter = new RateLimiter(10_000, () => now);
    expect(limiter.allow('a')).toBe(true);
    expect(limiter.allow('a')).toBe(false);
    expect(limiter.allow('b')).toBe(true);
    now = 10_000;
    expect(limiter.allow('a')).toBe(true);
  });
});

describe('ClientTable lookup cache', () => {
  it('answers repeated and unknown sources the same as the first time, per address spelling', () => {
    const table = new ClientTable([entry('host', '10.1.2.3'), entry('net', '10.0.0.0/8')]);
    for (let round = 0; round < 3; round++) {
      expect(table.lookup('10.1.2.3')?.name).toBe('host');
      expect(table.lookup('::ffff:10.1.2.3')?.name).toBe('host');
      expect(table.lookup('::FFFF:10.9.9.9')?.name).toBe('net');
      expect(table.lookup('192.0.2.1')).toBeUndefined();
    }
  });

  it('stays correct past its bound (a spoofed-source flood empties it, it never serves a stale entry)', () => {
    const table = new ClientTable([entry('net', '10.0.0.0/16')]);
    for (let i = 0; i < ClientTable.MAX_CACHED * 2 + 10; i++) {
      // 10.0.x.1 for the first 256, then 10.1.x.1 onwards: inside the /16, then outside it.
      const address = `10.${i >> 8}.${i & 0xff}.1`;
      expect(table.lookup(address)?.name).toBe(i < 256 ? 'net' : undefined);
    }
    expect(table.lookup('10.0.7.7')?.name).toBe('net');
  });
});
