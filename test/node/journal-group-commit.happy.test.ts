import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type AppendResult, openJournal } from '../../local-relay/src/journal/journal.ts';
import { waitFor } from '../support/wait.ts';
import { entry, instrumentedFile, memoryLogger, tempDir } from './journal-fixtures.ts';

/** Group commit: appends are written in order at once, and one datasync covers a whole batch. */

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const MB = 1 << 20;
const usersOnDisk = async () =>
  (await readFile(join(dir, 'journal.jsonl'), 'utf8'))
    .split('\n')
    .slice(0, -1)
    .map((l) => (JSON.parse(l) as { username: string }).username);
const users = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `user${from + i}`);
/** Waits (bounded) for file I/O running on libuv's threads to get somewhere. */
for (const sync of ['batch', 'before_reply'] as const) {
  it(`${sync}: many concurrent appends are written in order with one write and made durable by one datasync`, async () => {
    const file = instrumentedFile();
    const j = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger, sync, openFile: file.openFile });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => j.append(entry(i))));
    expect(results.every((r) => r.stored)).toBe(true);
    await j.close();
    expect(file.counts).toEqual({ writes: 1, syncs: 1 });
    expect(await usersOnDisk()).toEqual(users(0, 200));
  });

  it(`${sync}: appends made while a datasync runs share the next one, and stay in order`, async () => {
    const file = instrumentedFile();
    const j = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger, sync, openFile: file.openFile });
    file.hold();
    const first = j.append(entry(0));
    await waitFor(() => file.counts.syncs === 1, 5_000, 'the first datasync');
    const resolved = new Set<number>();
    const rest = Array.from({ length: 30 }, (_, i) =>
      j.append(entry(i + 1)).then((r) => {
        resolved.add(i + 1);
        return r;
      }),
    );
    await waitFor(() => j.depth() === 31, 5_000, 'the second write');
    // Written already (one write for the 30, behind the first) while the first sync is held...
    expect(file.counts.writes).toBe(2);
    expect(await usersOnDisk()).toEqual(users(0, 31));
    // ...and only one sync is in progress; the next waits for it.
    expect(file.counts.syncs).toBe(1);
    // `batch` answers on the write; `before_reply` waits for the datasync covering the record.
    expect(resolved.size).toBe(sync === 'batch' ? 30 : 0);
    file.release();
    const all = await Promise.all([first, ...rest]);
    expect(all.every((r) => r.stored)).toBe(true);
    await j.close();
    expect(file.counts.syncs).toBe(2);
    expect(j.pending().map((r) => r.username)).toEqual(users(0, 31));
  });
}

it('before_reply: a failed datasync means "not stored" for the records it covered, and is logged', async () => {
  const file = instrumentedFile();
  const { logger, lines } = memoryLogger();
  const j = await openJournal({ dir, maxBytes: MB, logger, sync: 'before_reply', openFile: file.openFile });
  file.failNextSync();
  const failed: AppendResult[] = await Promise.all([j.append(entry(1)), j.append(entry(2))]);
  expect(failed).toEqual([
    { stored: false, reason: 'io' },
    { stored: false, reason: 'io' },
  ]);
  expect(lines.some((l) => l.msg.startsWith('journal: datasync failed'))).toBe(true);
  expect(j.dropped()).toBe(2);
  // The next record gets a sync of its own and is stored.
  expect((await j.append(entry(3))).stored).toBe(true);
  await j.close();
});

it('batch: a failed datasync is logged; the records stay written and are uploaded', async () => {
  const file = instrumentedFile();
  const { logger, lines } = memoryLogger();
  const j = await openJournal({ dir, maxBytes: MB, logger, openFile: file.openFile });
  file.failNextSync();
  expect((await j.append(entry(1))).stored).toBe(true);
  await waitFor(() => lines.some((l) => l.msg.startsWith('journal: datasync failed')), 5_000, 'the error log');
  const sent: string[] = [];
  await j.uploadPending(async (records) => {
    sent.push(...records.map((r) => r.username));
    return true;
  });
  expect(sent).toEqual(['user1']);
  await j.close();
});

it('close waits for the last datasync, and later appends are refused, not lost silently', async () => {
  const file = instrumentedFile();
  const j = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger, openFile: file.openFile });
  file.hold();
  await j.append(entry(1));
  await waitFor(() => file.counts.syncs === 1, 5_000, 'the datasync');
  let closed = false;
  const closing = j.close().then(() => {
    closed = true;
  });
  await new Promise((r) => setTimeout(r, 20));
  expect(closed).toBe(false);
  file.release();
  await closing;
  expect(file.counts.syncs).toBe(1);
  expect(await j.append(entry(2))).toEqual({ stored: false, reason: 'io' });
  expect(j.dropped()).toBe(1);
});
