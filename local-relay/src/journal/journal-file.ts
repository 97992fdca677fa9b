import { readFile, truncate } from 'node:fs/promises';
import { type JournalRecord, journalRecordSchema } from './record.ts';

/** What the journal needs of the file it appends to (node's FileHandle opened with 'a'). */
export interface JournalFileHandle {
  write(buffer: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface LoadedRecord {
  record: JournalRecord;
  /** Byte offset just past this record's line. */
  end: number;
}

export interface LoadedJournal {
  records: LoadedRecord[];
  /** Bytes of complete lines; the file is cut back to this if the tail was torn. */
  size: number;
  tornBytes: number;
  /** Complete lines that did not parse as a record (skipped, never uploaded). */
  corrupt: number;
}

/**
 * Reads a journal written one `JSON\n` line per record. A crash mid-write can leave a last line
 * without its newline: that record was never acknowledged, so it is cut off here, before any new
 * append could be glued onto it.
 */
export async function loadJournalFile(path: string): Promise<LoadedJournal> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], size: 0, tornBytes: 0, corrupt: 0 };
    throw e;
  }
  const records: LoadedRecord[] = [];
  let corrupt = 0;
  let start = 0;
  for (let nl = bytes.indexOf(0x0a, start); nl !== -1; nl = bytes.indexOf(0x0a, start)) {
    const parsed = parseLine(bytes.subarray(start, nl));
    if (parsed) records.push({ record: parsed, end: nl + 1 });
    else corrupt += 1;
    start = nl + 1;
  }
  const tornBytes = bytes.length - start;
  if (tornBytes > 0) await truncate(path, start);
  return { records, size: start, tornBytes, corrupt };
}

function parseLine(line: Buffer): JournalRecord | null {
  try {
    const r = journalRecordSchema.safeParse(JSON.parse(line.toString('utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
