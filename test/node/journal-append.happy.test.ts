import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { auditUploadRequestSchema } from '@duo-edge/contract/audit';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openJournal } from '../../local-relay/src/journal/journal.ts';
import type { JournalRecord } from '../../local-relay/src/journal/record.ts';
import { entry, memoryLogger, tempDir } from './journal-fixtures.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const MB = 1 << 20;

it('keeps appended records, in order, with stable ids, across a reopen', async () => {
  const { logger, lines } = memoryLogger();
  const j = await openJournal({ dir, maxBytes: MB, logger });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await j.append(entry(i));
    if (!r.stored) throw new Error('not stored');
    ids.push(r.id);
  }
  expect(new Set(ids).size).toBe(5);
  expect(ids.every((id) => /^[0-9a-f-]{36}$/.test(id))).toBe(true);
  expect(j.depth()).toBe(5);
  await j.close();

  const again = await openJournal({ dir, maxBytes: MB, logger });
  expect(again.pending().map((r) => r.id)).toEqual(ids);
  expect(again.pending()[3]).toMatchObject({ ...entry(3), id: ids[3], factor: null, client_ip: null });
  expect(lines).toEqual([]);
  await again.close();
});

it("keeps the decision's own id when it has one", async () => {
  const j = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger });
  const id = '6f1c2d3e-1111-4222-8333-944455566677';
  expect(await j.append({ ...entry(1), id })).toEqual({ stored: true, id });
  expect(j.pending()[0]?.id).toBe(id);
  await j.close();
});

it('appends from concurrent callers land as whole lines', async () => {
  const j = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger });
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => j.append(entry(i))));
  expect(results.every((r) => r.stored)).toBe(true);
  await j.close();
  const text = await readFile(join(dir, 'journal.jsonl'), 'utf8');
  expect(
    text
      .split('\n')
      .slice(0, -1)
      .map((l) => JSON.parse(l).username),
  ).toEqual(Array.from({ length: 50 }, (_, i) => `user${i}`));
});

it('uploads in order, in batches that are valid upload bodies, then compacts the file', async () => {
  const j = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger });
  for (let i = 0; i < 23; i++) await j.append(entry(i));
  const batches: JournalRecord[][] = [];
  const report = await j.uploadPending(async (records) => {
    auditUploadRequestSchema.parse({ records });
    batches.push(records);
    return true;
  }, 10);
  expect(report).toEqual({ uploaded: 23, remaining: 0 });
  expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
  expect(batches.flat().map((r) => r.username)).toEqual(Array.from({ length: 23 }, (_, i) => `user${i}`));
  expect(j.depth()).toBe(0);
  expect((await stat(join(dir, 'journal.jsonl'))).size).toBe(0);
  // The journal keeps working after compaction.
  await j.append(entry(99));
  expect(j.pending().map((r) => r.username)).toEqual(['user99']);
  await j.close();
  const again = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger });
  expect(again.pending().map((r) => r.username)).toEqual(['user99']);
  await again.close();
});

it('stops at the first refused batch and resumes from there after a restart', async () => {
  const j = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger });
  for (let i = 0; i < 10; i++) await j.append(entry(i));
  let calls = 0;
  const sent: string[] = [];
  const report = await j.uploadPending(async (records) => {
    calls += 1;
    if (calls === 2) return false;
    sent.push(...records.map((r) => r.username));
    return true;
  }, 4);
  expect(report).toEqual({ uploaded: 4, remaining: 6 });
  await j.close();

  const again = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger });
  expect(again.depth()).toBe(6);
  await again.uploadPending(async (records) => {
    sent.push(...records.map((r) => r.username));
    return true;
  }, 4);
  expect(sent).toEqual(Array.from({ length: 10 }, (_, i) => `user${i}`));
  await again.close();
});

it('treats a throwing sender as a failed upload and keeps the records', async () => {
  const j = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger });
  await j.append(entry(1));
  const report = await j.uploadPending(async () => {
    throw new TypeError('fetch failed');
  });
  expect(report).toEqual({ uploaded: 0, remaining: 1 });
  expect(j.depth()).toBe(1);
  await j.close();
});

it('splits batches to stay under the byte cap, and always makes progress', async () => {
  const j = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger, maxBatchBytes: 600 });
  for (let i = 0; i < 6; i++) await j.append(entry(i));
  const sizes: number[] = [];
  await j.uploadPending(async (records) => {
    sizes.push(records.length);
    expect(JSON.stringify(records).length).toBeLessThanOrEqual(700);
    return true;
  });
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(6);
  expect(sizes.length).toBeGreaterThan(1);
  await j.close();

  const tiny = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger, maxBatchBytes: 1 });
  await tiny.append(entry(7));
  expect(await tiny.uploadPending(async () => true)).toEqual({ uploaded: 1, remaining: 0 });
  await tiny.close();
});

it('runs one upload at a time', async () => {
  const j = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger });
  for (let i = 0; i < 3; i++) await j.append(entry(i));
  let sends = 0;
  const send = async () => {
    sends += 1;
    await new Promise((r) => setTimeout(r, 10));
    return true;
  };
  const [a, b] = await Promise.all([j.uploadPending(send), j.uploadPending(send)]);
  expect(a).toBe(b);
  expect(sends).toBe(1);
  await j.close();
});
