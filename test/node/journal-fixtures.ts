import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
