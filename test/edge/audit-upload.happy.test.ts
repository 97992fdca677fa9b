import { env } from 'cloudflare:workers';
import type { AuditRecordUpload } from '@duo-edge/contract/audit';
import { expect, it } from 'vitest';
import { listDecisions } from '../../src/audit/store.ts';
import { auditUploadRoute } from '../../src/audit/upload-route.ts';
import { asRelay, jsonPost } from './audit-fixtures.ts';

const upload = (site: string, records: AuditRecordUpload[]) =>
  asRelay(auditUploadRoute, site, `${site}-key`).request('https://edge.test/v1/audit', jsonPost({ records }), env);

/** Decided a minute ago: inside every bound (skew, key addition, retention). */
const RECENT = Date.now() - 60_000;

const offline = (n: number, time = RECENT): AuditRecordUpload[] =>
  Array.from({ length: n }, (_, i) => ({
    id: crypto.randomUUID(),
    time: time + i,
    username: `user${i}`,
    stage: 'preauth',
    result: 'allow',
    reason: 'Failmode Safe - Allowed Duo login on preauth failure',
    source: 'failmode-relay',
  }));

async function stored(site: string) {
  const page = await listDecisions(env.AUDIT_DB, { site }, undefined, 500);
  if (!page.ok) throw new Error('list failed');
  return page.value.records;
}

it('stores uploaded records once, however often they are sent', async () => {
  const records = offline(5);
  const first = await upload('up-site', records);
  expect(first.status).toBe(200);
  expect(await first.json()).toEqual({ accepted: 5, duplicates: 0, refused: [] });

  const late = offline(1, RECENT + 1_000);
  const again = await upload('up-site', [...records.slice(2), ...late]);
  expect(await again.json()).toEqual({ accepted: 1, duplicates: 3, refused: [] });
  expect((await stored('up-site')).map((r) => r.id).sort()).toEqual([...records, ...late].map((r) => r.id).sort());
});

it('records the site and relay of the authenticated key, whatever the body says', async () => {
  const [rec] = offline(1);
  const res = await upload('up-owner', [{ ...rec!, site: 'someone-else', relay: 'forged' } as AuditRecordUpload]);
  expect(res.status).toBe(200);
  const [row] = await stored('up-owner');
  expect(row).toMatchObject({ id: rec!.id, site: 'up-owner', relay: 'up-owner-key', source: 'failmode-relay' });
  expect(await stored('someone-else')).toEqual([]);
});

it('accepts a full batch of 500', async () => {
  const res = await upload('up-big', offline(500));
  expect(await res.json()).toEqual({ accepted: 500, duplicates: 0, refused: [] });
});
