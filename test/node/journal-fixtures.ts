import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JournalFileHandle } from '../../local-relay/src/journal/journal-file.ts';
import type { JournalEntry, JournalLogger } from '../../local-relay/src/journal/record.ts';

/** Helpers for the journal suites (not a test file itself). */

export function entry(i: number): JournalEntry {
  return {
    time: 1_700_000_000_000 + i,
    username: `user${i}`,
    nas_ip: '192.0.2.1',
    stage: 'preauth',
    result: 'allow',
    reason: 'Failmode Safe - Allowed Duo login on preauth failure',
    source: 'failmode-relay',
  };
}

export function memoryLogger() {
  const lines: Array<{ level: 'warn' | 'error'; msg: string; obj: object }> = [];
  const logger: JournalLogger = {
    warn: (obj, msg) => lines.push({ level: 'warn', msg, obj }),
    error: (obj, msg) => lines.push({ level: 'error', msg, obj }),
  };
  return { logger, lines };
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'journal-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A real journal file whose writes and datasyncs are counted, and whose datasyncs can be held
 * (to see what waits for them) or made to fail.
 */
export function instrumentedFile() {
  const counts = { writes: 0, syncs: 0 };
  let gate: Promise<void> | undefined;
  let release = () => {};
  let failNext = false;
  const openFile = async (path: string): Promise<JournalFileHandle> => {
    const fh = await open(path, 'a');
    return {
      write: (buffer, offset, length) => {
        counts.writes += 1;
        return fh.write(buffer, offset, length);
      },
      async datasync() {
        counts.syncs += 1;
        await gate;
        if (failNext) {
          failNext = false;
          throw Object.assign(new Error('EIO'), { code: 'EIO' });
        }
        await fh.datasync();
      },
      truncate: (length) => fh.truncate(length),
      close: () => fh.close(),
    };
  };
  return {
    openFile,
    counts,
    /** Datasyncs started from now on wait until `release()`. */
    hold() {
      gate = new Promise((r) => {
        release = () => {
          gate = undefined;
          r();
        };
      });
    },
    release: () => release(),
    failNextSync() {
      failNext = true;
    },
  };
}
