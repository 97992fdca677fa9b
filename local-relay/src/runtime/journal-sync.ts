import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EdgeClient } from '../edge/client.ts';
import type { FlowDecision } from '../flow/index.ts';
import { journalEntryOf } from '../journal/from-decision.ts';
import { type Journal, type JournalSyncMode, openJournal, type UploadReport } from '../journal/journal.ts';

/**
 * The offline journal in the running relay: decisions the edge never saw (relay failmode,
 * relay-applied exemptions) are appended before the NAS gets its reply (written, or also fsynced:
 * `[journal] sync`, see the journal) and uploaded in
 * order through the signed `POST /v1/audit`: at start, whenever the breaker closes, and every
 * `intervalMs`. An upload that fails leaves the records for the next try; ids make repeats harmless.
 */
export interface JournalSync {
  journal: Journal;
  /** The decision hook's part: a promise when the decision is journalled. */
  record(d: FlowDecision): Promise<unknown> | undefined;
  upload(): Promise<UploadReport>;
  start(): void;
  close(): Promise<void>;
}

export const JOURNAL_DIR = 'journal';

export async function startJournalSync(opts: {
  stateDir: string;
  maxBytes: number;
  intervalMs: number;
  sync: JournalSyncMode;
  edge: Pick<EdgeClient, 'uploadAudit'>;
  logger: Logger;
}): Promise<JournalSync> {
  const log = opts.logger.child({ component: 'journal' });
  const journal = await openJournal({
    dir: join(opts.stateDir, JOURNAL_DIR),
    maxBytes: opts.maxBytes,
    sync: opts.sync,
    logger: log,
  });
  if (journal.depth() > 0) log.info({ pending: journal.depth() }, 'journal: decisions waiting for the edge');
  let timer: NodeJS.Timeout | undefined;

  async function upload(): Promise<UploadReport> {
    if (journal.depth() === 0) return { uploaded: 0, remaining: 0 };
    const report = await journal.uploadPending(async (records) => {
      const r = await opts.edge.uploadAudit(records);
      if (r.kind !== 'ok') return false;
      const { accepted, duplicates, refused } = r.value;
      if (accepted + duplicates + refused.length !== records.length) {
        log.error({ sent: records.length, accepted, duplicates }, 'journal: edge acknowledged a partial batch');
        return false;
      }
      // Refused for good (a time this relay cannot have written, e.g. a clock far off): retrying
      // would be refused again, so they leave the journal here, logged.
      if (refused.length > 0) log.warn({ refused }, 'journal: the edge refused records');
      return true;
    });
    if (report.uploaded > 0) log.info(report, 'journal: uploaded to the edge');
    return report;
  }

  return {
    journal,
    record(d) {
      const entry = journalEntryOf(d);
      return entry ? journal.append(entry) : undefined;
    },
    upload,
    start() {
      if (timer) return;
      timer = setInterval(() => void upload(), opts.intervalMs);
      timer.unref();
      void upload();
    },
    async close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await journal.close();
    },
  };
}
