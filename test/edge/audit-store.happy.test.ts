import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { runRetention } from '../../src/audit/retention.ts';
import { listDecisions, purgeOlderThan, recordDecision, recordDecisions } from '../../src/audit/store.ts';
import { decision } from './audit-fixtures.ts';

const db = env.AUDIT_DB;
const DAY = 86_400_000;

async function listAll(filters: Parameters<typeof listDecisions>[1], limit: number) {
  const pages: string[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await listDecisions(db, filters, cursor, limit);
    if (!page.ok) throw new Error('bad cursor');
    pages.push(page.value.records.map((r) => r.id));
    if (!page.value.next_cursor) return pages;
    cursor = page.value.next_cursor;
  }
  throw new Error('paging did not end');
}

describe('audit store', () => {
  it('stores a decision with every field and lists it back', async () => {
    const rec = decision({ site: 'store-fields', source: 'failmode-edge', result: 'deny', factor: null });
    await recordDecision(db, rec, 42);
    const page = await listDecisions(db, { site: 'store-fields' }, undefined, 10);
    expect(page.ok && page.value).toEqual({ records: [{ ...rec, received_at: 42 }], next_cursor: null });
  });

  it('ignores a record whose id is already stored, and says so', async () => {
    const a = decision({ site: 'store-dup' });
    const b = decision({ site: 'store-dup' });
    expect(await recordDecisions(db, [a, b])).toEqual({ accepted: 2, duplicates: 0 });
    expect(await recordDecisions(db, [a, b, { ...b, reason: 'changed' }])).toEqual({ accepted: 0, duplicates: 3 });
    const page = await listDecisions(db, { site: 'store-dup' }, undefined, 10);
    expect(page.ok && page.value.records.map((r) => r.reason)).toEqual([b.reason, a.reason]);
  });

  it('filters by site, user, result, source and time range', async () => {
    const t = 1_800_000_000_000;
    const recs = [
      decision({ site: 'flt', username: 'alice', result: 'allow', source: 'duo', time: t }),
      decision({ site: 'flt', username: 'bob', result: 'deny', source: 'duo', time: t + 1 }),
      decision({ site: 'flt', username: 'alice', result: 'deny', source: 'policy', time: t + 2 }),
      decision({ site: 'flt', username: 'alice', result: 'allow', source: 'failmode-relay', time: t + 3 }),
      decision({ site: 'flt-other', username: 'alice', result: 'allow', source: 'duo', time: t + 4 }),
    ];
    await recordDecisions(db, recs);
    const ids = async (f: Parameters<typeof listDecisions>[1]) => {
      const page = await listDecisions(db, f, undefined, 100);
      return page.ok ? page.value.records.map((r) => r.id) : [];
    };
    const id = (i: number) => recs[i]!.id;
    expect(await ids({ site: 'flt' })).toEqual([id(3), id(2), id(1), id(0)]);
    expect(await ids({ site: 'flt', user: 'alice' })).toEqual([id(3), id(2), id(0)]);
    expect(await ids({ site: 'flt', result: 'deny' })).toEqual([id(2), id(1)]);
    expect(await ids({ source: 'policy', user: 'alice', site: 'flt' })).toEqual([id(2)]);
    expect(await ids({ site: 'flt', from: t + 1, to: t + 3 })).toEqual([id(2), id(1)]);
    expect(await ids({ user: 'alice', from: t + 3 })).toEqual([id(4), id(3)]);
  });

  it('pages through every record exactly once, newest first, even with equal timestamps', async () => {
    const recs = Array.from({ length: 23 }, (_, i) => decision({ site: 'paging', time: 1_900_000_000_000 + (i % 4) }));
    await recordDecisions(db, recs);
    const expected = [...recs].sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1)).map((r) => r.id);
    for (const size of [1, 5, 7, 23, 50]) {
      const pages = await listAll({ site: 'paging' }, size);
      expect(pages.flat()).toEqual(expected);
      expect(pages.every((p) => p.length <= size && p.length > 0)).toBe(true);
    }
  });

  it('keeps later pages stable while newer decisions arrive', async () => {
    await recordDecisions(
      db,
      Array.from({ length: 6 }, (_, i) => decision({ site: 'live', time: 2_000_000_000_000 + i })),
    );
    const first = await listDecisions(db, { site: 'live' }, undefined, 3);
    if (!first.ok || !first.value.next_cursor) throw new Error('expected a second page');
    await recordDecision(db, decision({ site: 'live', time: 2_000_000_000_100 }));
    const second = await listDecisions(db, { site: 'live' }, first.value.next_cursor, 3);
    expect(second.ok && second.value.records.map((r) => r.time)).toEqual([
      2_000_000_000_002, 2_000_000_000_001, 2_000_000_000_000,
    ]);
    expect(second.ok && second.value.next_cursor).toBeNull();
  });

  it('refuses a cursor it did not make', async () => {
    for (const cursor of ['not a cursor', 'e30', btoa('[1,2]'), '']) {
      const page = await listDecisions(db, {}, cursor, 10);
      expect(page).toEqual({ ok: false, error: { kind: 'bad_cursor' } });
    }
  });

  it('purges decisions older than the cutoff only', async () => {
    const old = decision({ site: 'purge', time: 1000 });
    const edge = decision({ site: 'purge', time: 2000 });
    await recordDecisions(db, [old, edge]);
    expect(await purgeOlderThan(db, 2000)).toBeGreaterThanOrEqual(1);
    const page = await listDecisions(db, { site: 'purge' }, undefined, 10);
    expect(page.ok && page.value.records.map((r) => r.id)).toEqual([edge.id]);
  });

  it('retention keeps 90 days by default and honours AUDIT_RETENTION_DAYS', async () => {
    const now = 3_000_000_000_000;
    const recs = [91, 89, 31, 29].map((days) => decision({ site: 'retention', time: now - days * DAY }));
    await recordDecisions(db, recs);
    const remaining = async () => {
      const page = await listDecisions(db, { site: 'retention' }, undefined, 10);
      return page.ok ? page.value.records.length : -1;
    };
    expect((await runRetention({ AUDIT_DB: db }, now)).decisions).toBeGreaterThanOrEqual(1);
    expect(await remaining()).toBe(3);
    await runRetention({ AUDIT_DB: db, AUDIT_RETENTION_DAYS: 'nonsense' }, now);
    expect(await remaining()).toBe(3);
    await runRetention({ AUDIT_DB: db, AUDIT_RETENTION_DAYS: '30' }, now);
    expect(await remaining()).toBe(1);
  });
});
