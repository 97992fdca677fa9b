import type { AuditRecordUpload, AuditUploadResponse } from '@duo-edge/contract/audit';
import pino from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { FlowDecision } from '../../local-relay/src/flow/decision.ts';
import { startJournalSync } from '../../local-relay/src/runtime/journal-sync.ts';
import { tempDir } from './journal-fixtures.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const decision = (id: string): FlowDecision => ({
  id,
  time: Date.now(),
  mode: 'auto',
  username: 'alice',
  nas_ip: '192.0.2.1',
  stage: 'preauth',
  result: 'allow',
  reason: 'Failmode Safe - Allowed Duo login on preauth failure',
  source: 'failmode-relay',
  edge_failure: 'transport:refused',
  latency_ms: 3,
});

it('records the edge refuses for their time leave the journal (a retry would be refused again)', async () => {
  const sent: AuditRecordUpload[][] = [];
  const answer = (records: ReadonlyArray<AuditRecordUpload>): AuditUploadResponse => ({
    accepted: records.length - 1,
    duplicates: 0,
    refused: [{ id: records[0]!.id, reason: 'time_in_future' }],
  });
  const sync = await startJournalSync({
    stateDir: dir,
    maxBytes: 1 << 20,
    intervalMs: 60_000,
    sync: 'batch',
    edge: {
      uploadAudit: async (records) => {
        sent.push([...records]);
        return { kind: 'ok', value: answer(records) };
      },
    },
    logger: pino({ level: 'silent' }),
  });
  await sync.record(decision('11111111-1111-4111-8111-111111111111'));
  await sync.record(decision('22222222-2222-4222-8222-222222222222'));
  expect(await sync.upload()).toEqual({ uploaded: 2, remaining: 0 });
  expect(sync.journal.depth()).toBe(0);
  expect(await sync.upload()).toEqual({ uploaded: 0, remaining: 0 });
  expect(sent).toHaveLength(1);
  await sync.close();
});
