import { auditRecordUploadSchema } from '@duo-edge/contract/audit';
import type { z } from 'zod';

/** One journalled decision: exactly what `POST /v1/audit` takes, so lines upload as they are. */
export const journalRecordSchema = auditRecordUploadSchema;
export type JournalRecord = z.output<typeof journalRecordSchema>;
/** What the flow hands in. It keeps the decision's own id (joins the relay's auth-event log with
 * the edge's audit log); the journal assigns one when there is none. */
export type JournalEntry = Omit<z.input<typeof journalRecordSchema>, 'id'> & { id?: string };

/** Signed sender to `POST /v1/audit`; true only when the edge acknowledged the whole batch. */
export type JournalSend = (records: JournalRecord[]) => Promise<boolean>;

/** pino-compatible subset. */
export interface JournalLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
