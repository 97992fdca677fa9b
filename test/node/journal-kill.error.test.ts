import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { openJournal } from '../../local-relay/src/journal/journal.ts';
import { entry, memoryLogger, tempDir } from './journal-fixtures.ts';

/**
 * A real process appends (and uploads) and is killed with SIGKILL mid-run. Node 24 from
 * node_modules (process.execPath: vitest runs on it) runs the child's TypeScript directly.
 */

const JOURNAL_URL = pathToFileURL(join(import.meta.dirname, '../../local-relay/src/journal/journal.ts')).href;
const FIXTURES_URL = pathToFileURL(join(import.meta.dirname, 'journal-fixtures.ts')).href;

const CHILD = `
import { appendFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { openJournal } from ${JSON.stringify(JOURNAL_URL)};
import { entry } from ${JSON.stringify(FIXTURES_URL)};
const [dir, mode, edgeLog, sync] = process.argv.slice(2);
const logger = { warn() {}, error() {} };
const j = await openJournal({ dir, maxBytes: 1 << 24, logger, sync: sync === 'before_reply' ? sync : 'batch' });
if (mode === 'append') {
  for (let i = 0; ; i++) {
    const r = await j.append(entry(i));
    if (r.stored) process.stdout.write('ack ' + r.id + '\\n');
  }
} else {
  // The "edge": every batch it receives is made durable before it is acknowledged.
  for (;;) {
    await j.uploadPending(async (records) => {
      const fd = openSync(edgeLog, 'a');
      appendFileSync(fd, records.map((r) => r.id).join('\\n') + '\\n');
      fsyncSync(fd);
      closeSync(fd);
      process.stdout.write('batch\\n');
      await new Promise((r) => setTimeout(r, 2));
      return true;
    }, 3);
    await new Promise((r) => setTimeout(r, 5));
  }
}
`;

let dir: string;
let cleanup: () => Promise<void>;
const children: ChildProcess[] = [];
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Runs the child until `stop(stdoutLines)` holds, then SIGKILLs it. Returns the lines seen. */
async function runAndKill(args: string[], stop: (lines: string[]) => boolean): Promise<string[]> {
  const script = join(dir, 'child.ts');
  await writeFile(script, CHILD);
  const child = spawn(process.execPath, ['--no-warnings', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  let stderr = '';
  let buffered = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not get far enough: ${stderr}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts);
      if (stop(lines)) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!stop(lines)) reject(new Error(`child exited early (${code}): ${stderr}`));
    });
  });
  await exited;
  expect(child.signalCode).toBe('SIGKILL');
  return lines;
}

// `batch` acknowledges on write(): the page cache is the kernel's, so a kill -9 cannot lose it.
it.each(['batch', 'before_reply'])(
  '%s: every acknowledged append survives kill -9, exactly once and in order',
  {
    timeout: 30_000,
  },
  async (sync) => {
    const lines = await runAndKill([join(dir, 'j'), 'append', '', sync], (l) => l.length >= 40);
    const acked = lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4));

    const { logger } = memoryLogger();
    const j = await openJournal({ dir: join(dir, 'j'), maxBytes: 1 << 24, logger });
    const ids = j.pending().map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Acknowledged records are a prefix of what is on disk (one more may have been written unacked).
    expect(ids.slice(0, acked.length)).toEqual(acked);
    expect(ids.length - acked.length).toBeLessThanOrEqual(1);
    expect(j.pending().map((r) => r.username)).toEqual(ids.map((_, i) => `user${i}`));
    // And the journal still takes records after the crash.
    expect((await j.append(entry(999))).stored).toBe(true);
    await j.close();
  },
);

it('an upload killed mid-run resumes: the edge ends up with every record, in order, none lost', {
  timeout: 30_000,
}, async () => {
  const jdir = join(dir, 'j');
  const edgeLog = join(dir, 'edge.log');
  const { logger } = memoryLogger();
  const seed = await openJournal({ dir: jdir, maxBytes: 1 << 24, logger });
  for (let i = 0; i < 60; i++) await seed.append(entry(i));
  const all = seed.pending().map((r) => r.id);
  await seed.close();

  await runAndKill([jdir, 'upload', edgeLog], (l) => l.length >= 5);

  const j = await openJournal({ dir: jdir, maxBytes: 1 << 24, logger });
  expect(j.depth()).toBeLessThan(60);
  const received = (await readFile(edgeLog, 'utf8')).split('\n').filter(Boolean);
  await j.uploadPending(async (records) => {
    received.push(...records.map((r) => r.id));
    return true;
  });
  expect(j.depth()).toBe(0);
  await j.close();
  // What the edge stores (INSERT OR IGNORE by id): every record exactly once, first seen in order.
  const stored = received.filter((id, i) => received.indexOf(id) === i);
  expect(stored).toEqual(all);
  // At most the one batch in flight at the kill is sent twice.
  expect(received.length - stored.length).toBeLessThanOrEqual(3);
});
