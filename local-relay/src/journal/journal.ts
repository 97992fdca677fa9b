import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic-file.ts';
import { type LoadedRecord, loadJournalFile } from './journal-file.ts';
import {
  type JournalEntry,
  type JournalLogger,
  type JournalRecord,
  type JournalSend,
  journalRecordSchema,
} from './record.ts';

/**
 * The relay's offline journal: every decision made while the edge is unreachable, kept until the
 * edge has it. `journal.jsonl` is append-only, one fsynced JSON line per record; `journal.offset`
 * holds how many bytes of it the edge has acknowledged, replaced atomically. A restart (or a
 * kill -9) resumes from there; a record is re-sent at most once more, and its stable id makes
 * that harmless.
 */

export interface JournalOptions {
  dir: string;
  /** Cap on the journal file; once reached, records are dropped and counted, never waited for. */
  maxBytes: number;
  logger: JournalLogger;
  /** Cap on one upload batch's JSON size, to stay under the edge's request body limit. */
  maxBatchBytes?: number;
}

export type AppendResult = { stored: true; id: string } | { stored: false; reason: 'full' | 'invalid' | 'io' };

export interface UploadReport {
  uploaded: number;
  remaining: number;
}

export interface Journal {
  append(entry: JournalEntry): Promise<AppendResult>;
  /** Records not yet acknowledged by the edge, oldest first. */
  pending(): JournalRecord[];
  depth(): number;
  dropped(): number;
  /** Sends pending records in order, in batches, until done or `send` fails. Never throws. */
  uploadPending(send: JournalSend, batchSize?: number): Promise<UploadReport>;
  close(): Promise<void>;
}

export const DEFAULT_BATCH_SIZE = 100;
/** The edge refuses relay request bodies over 16 KiB; leave room for the envelope. */
export const DEFAULT_MAX_BATCH_BYTES = 15_000;

const JOURNAL = 'journal.jsonl';
const OFFSET = 'journal.offset';

export async function openJournal(options: JournalOptions): Promise<Journal> {
  const { dir, maxBytes, logger } = options;
  const maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  await mkdir(dir, { recursive: true });
  const journalPath = join(dir, JOURNAL);
  const offsetPath = join(dir, OFFSET);

  const loaded = await loadJournalFile(journalPath);
  if (loaded.tornBytes > 0)
    logger.warn({ bytes: loaded.tornBytes }, 'journal: dropped a torn last line (crash mid-write)');
  if (loaded.corrupt > 0) logger.error({ lines: loaded.corrupt }, 'journal: skipped lines that are not records');

  /** All records in the file; those before `committed` are acknowledged. */
  let records: LoadedRecord[] = loaded.records;
  let size = loaded.size;
  const storedOffset = await readOffset(offsetPath, logger);
  let committed = records.filter((r) => r.end <= storedOffset).length;
  const committedBytes = () => (committed > 0 ? records[committed - 1]!.end : 0);
  // An offset that is not a record boundary of this file (edited, replaced) would make later
  // records look acknowledged: pin it to what the file really holds before appending anything.
  if (storedOffset !== committedBytes()) {
    logger.warn(
      { stored: storedOffset, used: committedBytes() },
      'journal: offset did not match the journal; corrected',
    );
    await writeFileAtomic(offsetPath, offsetJson(committedBytes()));
  }

  const fh: FileHandle = await open(journalPath, 'a');
  let droppedCount = 0;
  let closed = false;
  // One operation on the files at a time: appends, commits and compaction never interleave.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(op: () => Promise<T>): Promise<T> => {
    const run = queue.then(op);
    queue = run.catch(() => {});
    return run;
  };

  const drop = (reason: 'full' | 'invalid' | 'io', detail: object): AppendResult => {
    droppedCount += 1;
    logger.error({ ...detail, reason, dropped: droppedCount }, 'journal: decision not journalled');
    return { stored: false, reason };
  };

  async function appendNow(entry: JournalEntry): Promise<AppendResult> {
    if (closed) return drop('io', { closed: true });
    const parsed = journalRecordSchema.safeParse({ ...entry, id: entry.id ?? randomUUID() });
    if (!parsed.success) return drop('invalid', { field: parsed.error.issues[0]?.path.join('.') });
    const line = Buffer.from(`${JSON.stringify(parsed.data)}\n`, 'utf8');
    if (size + line.length > maxBytes) return drop('full', { size, maxBytes });
    try {
      await fh.write(line);
      await fh.datasync();
    } catch (e) {
      // Cut any partial line so the next append starts on a clean line.
      await fh.truncate(size).catch(() => {});
      return drop('io', { code: (e as NodeJS.ErrnoException).code });
    }
    size += line.length;
    records.push({ record: parsed.data, end: size });
    return { stored: true, id: parsed.data.id };
  }

  async function commit(count: number): Promise<void> {
    const next = committed + count;
    await writeFileAtomic(offsetPath, offsetJson(records[next - 1]!.end));
    committed = next;
  }

  /**
   * Empties the journal once everything is acknowledged. The offset goes to 0 first: a crash
   * between the two steps re-sends acknowledged records (ignored by id), never loses one.
   */
  async function compact(): Promise<void> {
    if (committed === 0 || committed !== records.length) return;
    await writeFileAtomic(offsetPath, offsetJson(0));
    await fh.truncate(0);
    await fh.datasync();
    records = [];
    committed = 0;
    size = 0;
  }

  function nextBatch(batchSize: number): LoadedRecord[] {
    const batch: LoadedRecord[] = [];
    let bytes = 0;
    for (let i = committed; i < records.length && batch.length < batchSize; i++) {
      const r = records[i]!;
      const len = r.end - (i > 0 ? records[i - 1]!.end : 0);
      if (batch.length > 0 && bytes + len > maxBatchBytes) break;
      batch.push(r);
      bytes += len;
    }
    return batch;
  }

  let uploading: Promise<UploadReport> | undefined;

  async function upload(send: JournalSend, batchSize: number): Promise<UploadReport> {
    let uploaded = 0;
    for (;;) {
      const batch = nextBatch(batchSize);
      if (batch.length === 0) break;
      let acked = false;
      try {
        acked = await send(batch.map((r) => r.record));
      } catch (e) {
        logger.warn({ error: (e as Error).name }, 'journal: upload failed');
      }
      if (!acked) break;
      await serial(() => commit(batch.length));
      uploaded += batch.length;
    }
    await serial(compact);
    return { uploaded, remaining: records.length - committed };
  }

  return {
    append: (entry) => serial(() => appendNow(entry)).catch((e: unknown) => drop('io', { error: (e as Error).name })),
    pending: () => records.slice(committed).map((r) => r.record),
    depth: () => records.length - committed,
    dropped: () => droppedCount,
    uploadPending(send, batchSize = DEFAULT_BATCH_SIZE) {
      uploading ??= upload(send, Math.max(1, batchSize))
        .catch((e: unknown) => {
          logger.error({ error: (e as Error).name }, 'journal: upload stopped');
          return { uploaded: 0, remaining: records.length - committed };
        })
        .finally(() => {
          uploading = undefined;
        });
      return uploading;
    },
    async close() {
      await uploading;
      await serial(async () => {
        closed = true;
        await fh.close();
      });
    },
  };
}

const offsetJson = (offset: number) => `${JSON.stringify({ offset })}\n`;

async function readOffset(path: string, logger: JournalLogger): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  try {
    const { offset } = JSON.parse(text) as { offset?: unknown };
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return offset;
  } catch {}
  // Re-sending everything is safe (stable ids); skipping records would not be.
  logger.error({}, 'journal: unreadable offset file; uploading the whole journal again');
  return 0;
}
