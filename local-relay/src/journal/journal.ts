import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_BODY_BYTES } from '@duo-edge/contract/signing';
import { writeFileAtomic } from '../lib/atomic-file.ts';
import { groupCommit } from './group-commit.ts';
import { type JournalFileHandle, type LoadedRecord, loadJournalFile } from './journal-file.ts';
import {
  type JournalEntry,
  type JournalLogger,
  type JournalRecord,
  type JournalSend,
  journalRecordSchema,
} from './record.ts';

/**
 * The relay's offline journal: every decision made while the edge is unreachable, kept until the
 * edge has it. `journal.jsonl` is append-only, one JSON line per record, written in append order
 * and made durable by group commit (one datasync for every record written before it started);
 * `journal.offset` holds how many bytes of it the edge has acknowledged, replaced atomically. A
 * restart (or a kill -9) resumes from there; a record is re-sent at most once more, and its
 * stable id makes that harmless.
 *
 * What `append` waits for is `sync`:
 * - `batch` (default): the record's write() — it is in the kernel's page cache, which survives
 *   the relay process dying in any way (kill -9, crash, OOM kill). The datasync follows right
 *   behind in the group commit, so only a power loss or kernel crash within that one fsync
 *   (a few ms) can lose it.
 * - `before_reply`: the datasync covering the record — nothing acknowledged is lost even to a
 *   power cut, at the cost of one fsync of latency on every journalled reply.
 */
export type JournalSyncMode = 'batch' | 'before_reply';

export interface JournalOptions {
  dir: string;
  /** Cap on the journal file; once reached, records are dropped and counted, never waited for. */
  maxBytes: number;
  logger: JournalLogger;
  /** Cap on one upload batch's JSON size, to stay under the edge's request body limit. */
  maxBatchBytes?: number;
  /** What `append` resolves after; see above. Default `batch`. */
  sync?: JournalSyncMode;
  /** Opens `journal.jsonl` for appending (tests count and hold datasyncs through it). */
  openFile?: (path: string) => Promise<JournalFileHandle>;
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
/** The edge refuses relay request bodies over MAX_BODY_BYTES; a batch leaves room for the envelope. */
const ENVELOPE_ROOM_BYTES = 1_384;
export const DEFAULT_MAX_BATCH_BYTES = MAX_BODY_BYTES - ENVELOPE_ROOM_BYTES;

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

  const fh = await (options.openFile ?? ((path: string) => open(path, 'a')))(journalPath);
  const syncMode = options.sync ?? 'batch';
  const commits = groupCommit(
    () => fh.datasync(),
    (e) =>
      logger.error(
        { code: (e as NodeJS.ErrnoException).code },
        'journal: datasync failed; records written since the last one may not survive a power loss',
      ),
  );
  let droppedCount = 0;
  let closed = false;
  // One operation on the files at a time: writes, offset commits and compaction never interleave.
  // Datasyncs run beside them (group commit): a sync only ever makes more of the file durable.
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

  /** Validated lines waiting for the next write, in append order. */
  let queued: Array<{ line: Buffer; record: JournalRecord; done: (r: Promise<AppendResult> | AppendResult) => void }> =
    [];
  let queuedBytes = 0;

  function append(entry: JournalEntry): Promise<AppendResult> {
    if (closed) return Promise.resolve(drop('io', { closed: true }));
    const parsed = journalRecordSchema.safeParse({ ...entry, id: entry.id ?? randomUUID() });
    if (!parsed.success) return Promise.resolve(drop('invalid', { field: parsed.error.issues[0]?.path.join('.') }));
    const line = Buffer.from(`${JSON.stringify(parsed.data)}\n`, 'utf8');
    if (size + queuedBytes + line.length > maxBytes) return Promise.resolve(drop('full', { size, maxBytes }));
    return new Promise((done) => {
      queued.push({ line, record: parsed.data, done });
      queuedBytes += line.length;
      // The first line of a batch schedules the write; lines arriving before it runs join it.
      if (queued.length === 1)
        serial(writeQueued).catch((e: unknown) => logger.error({ error: (e as Error).name }, 'journal: write failed'));
    });
  }

  /** Writes every queued line with one write(), in order, and hands the batch to group commit. */
  async function writeQueued(): Promise<void> {
    const batch = queued;
    queued = [];
    queuedBytes = 0;
    if (closed) {
      for (const q of batch) q.done(drop('io', { closed: true }));
      return;
    }
    const bytes = Buffer.concat(batch.map((q) => q.line));
    try {
      for (let at = 0; at < bytes.length; ) at += (await fh.write(bytes, at, bytes.length - at)).bytesWritten;
    } catch (e) {
      // Cut any partial line so the next append starts on a clean line.
      await fh.truncate(size).catch(() => {});
      for (const q of batch) q.done(drop('io', { code: (e as NodeJS.ErrnoException).code }));
      return;
    }
    for (const q of batch) {
      size += q.line.length;
      records.push({ record: q.record, end: size });
    }
    commits.wrote(bytes.length);
    const upTo = commits.written();
    for (const q of batch) {
      const stored: AppendResult = { stored: true, id: q.record.id };
      if (syncMode === 'batch') q.done(stored);
      else
        q.done(
          commits.durable(upTo).then(
            () => stored,
            () => drop('io', { id: q.record.id, sync: 'failed' }),
          ),
        );
    }
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
    append,
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
        await commits.durable(commits.written()).catch(() => {});
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
