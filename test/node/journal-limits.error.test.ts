import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openJournal } from '../../local-relay/src/journal/journal.ts';
import type { JournalEntry } from '../../local-relay/src/journal/record.ts';
import { entry, memoryLogger, tempDir } from './journal-fixtures.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const MB = 1 << 20;
const file = () => join(dir, 'journal.jsonl');

it('ignores a torn last line left by a crash, and appends cleanly after it', async () => {
  const j = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger });
  await j.append(entry(1));
  await j.append(entry(2));
  await j.close();
  const good = (await stat(file())).size;
  await appendFile(file(), '{"id":"0f1e2d3c-aaaa-bbbb-cccc-123456789abc","time":17000000');

  const { logger, lines } = memoryLogger();
  const again = await openJournal({ dir, maxBytes: MB, logger });
  expect(again.pending().map((r) => r.username)).toEqual(['user1', 'user2']);
  expect(lines.map((l) => l.msg)).toEqual(['journal: dropped a torn last line (crash mid-write)']);
  expect((await stat(file())).size).toBe(good);
  await again.append(entry(3));
  await again.close();
  const third = await openJournal({ dir, maxBytes: MB, logger });
  expect(third.pending().map((r) => r.username)).toEqual(['user1', 'user2', 'user3']);
  await third.close();
});

it('skips a complete line that is not a record, and says so', async () => {
  const j = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger });
  await j.append(entry(1));
  await j.close();
  await appendFile(file(), '\u0000\u0000garbage\n{"id":"x"}\n');
  const { logger, lines } = memoryLogger();
  const again = await openJournal({ dir, maxBytes: MB, logger });
  await again.append(entry(2));
  expect(again.pending().map((r) => r.username)).toEqual(['user1', 'user2']);
  expect(lines).toEqual([{ level: 'error', msg: 'journal: skipped lines that are not records', obj: { lines: 2 } }]);
  await again.close();
});

it('drops and counts records once the cap is reached, without blocking', async () => {
  const one = Buffer.byteLength(
    `${JSON.stringify({ ...entry(1), id: crypto.randomUUID(), nas_identifier: null, client_ip: null, factor: null, latency_ms: null })}\n`,
  );
  const { logger, lines } = memoryLogger();
  const j = await openJournal({ dir, maxBytes: one * 3 + 10, logger });
  const results = [];
  for (let i = 0; i < 5; i++) results.push(await j.append(entry(i)));
  expect(results.map((r) => r.stored)).toEqual([true, true, true, false, false]);
  expect(results[4]).toEqual({ stored: false, reason: 'full' });
  expect(j.dropped()).toBe(2);
  expect(j.depth()).toBe(3);
  expect(lines.filter((l) => l.msg === 'journal: decision not journalled')).toHaveLength(2);
  expect((await stat(file())).size).toBeLessThanOrEqual(one * 3 + 10);

  // Once uploaded, the space is free again.
  await j.uploadPending(async () => true);
  expect((await j.append(entry(9))).stored).toBe(true);
  expect(j.dropped()).toBe(2);
  await j.close();
});

it('refuses an invalid record without throwing', async () => {
  const j = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger });
  const bad = { ...entry(1), source: 'duo' } as unknown as JournalEntry;
  expect(await j.append(bad)).toEqual({ stored: false, reason: 'invalid' });
  expect(j.dropped()).toBe(1);
  expect(j.depth()).toBe(0);
  await j.close();
});

it('an unreadable offset file means re-sending everything, never skipping', async () => {
  const j = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger });
  for (let i = 0; i < 3; i++) await j.append(entry(i));
  let acks = 2;
  expect(await j.uploadPending(async () => acks-- > 0, 1)).toEqual({ uploaded: 2, remaining: 1 });
  await j.close();
  await writeFile(join(dir, 'journal.offset'), '{"offs');
  const again = await openJournal({ dir, maxBytes: MB, logger: memoryLogger().logger });
  expect(again.depth()).toBe(3);
  await again.close();
});

it('an offset past the end of the journal is corrected before new records could hide behind it', async () => {
  await writeFile(join(dir, 'journal.offset'), JSON.stringify({ offset: 10_000 }));
  const { logger, lines } = memoryLogger();
  const j = await openJournal({ dir, maxBytes: MB, logger });
  await j.append(entry(1));
  await j.close();
  expect(JSON.parse(await readFile(join(dir, 'journal.offset'), 'utf8'))).toEqual({ offset: 0 });
  expect(lines.some((l) => l.msg.includes('offset did not match'))).toBe(true);
  const again = await openJournal({ dir, maxBytes: MB, logger });
  expect(again.pending().map((r) => r.username)).toEqual(['user1']);
  await again.close();
});
