import { env } from 'cloudflare:workers';
import { REPLY } from '@duo-edge/contract/messages';
import { authRequestSchema, preauthRequestSchema } from '@duo-edge/contract/wire';
import { expect, it } from 'vitest';
import { d1Recorder } from '../../src/audit/recorder.ts';
import { listDecisions } from '../../src/audit/store.ts';
import { authRecord, preauthRecord } from '../../src/decision/audit-hook.ts';

const meta = { site: 'rec-site', relay: 'relay-key-b64', startedAt: 1_000, endedAt: 1_250 };

it('stores the records the edge builds for its decisions, with their source', async () => {
  const recorder = d1Recorder(env.AUDIT_DB);
  const auth = authRequestSchema.parse({
    username: 'frank',
    factor: 'passcode',
    passcode: '123456',
    primary: 'passed',
    client_ip: '198.51.100.7',
    nas: { ip: '192.0.2.10', identifier: 'vpn-1' },
    login_id: 'c'.repeat(64),
  });
  const pre = preauthRequestSchema.parse({ username: 'frank', primary: 'passed' });
  await recorder.record(
    authRecord(meta, auth, { result: 'allow', message: 'Success', source: 'duo', status: 'allow' }),
  );
  await recorder.record(
    preauthRecord({ ...meta, endedAt: 2_000 }, pre, {
      result: 'allow',
      message: REPLY.failSafeAllowed,
      source: 'failmode-edge',
      failmode: { failmode: 'safe', stage: 'preauth', failure: 'http5xx' },
    })!,
  );
  const page = await listDecisions(env.AUDIT_DB, { site: 'rec-site' }, undefined, 10);
  if (!page.ok) throw new Error('list failed');
  expect(page.value.records).toEqual([
    expect.objectContaining({
      stage: 'preauth',
      source: 'failmode-edge',
      reason: `${REPLY.failSafeAllowed} (http5xx)`,
    }),
    expect.objectContaining({
      stage: 'auth',
      factor: 'passcode',
      source: 'duo',
      result: 'allow',
      relay: 'relay-key-b64',
      nas_ip: '192.0.2.10',
      nas_identifier: 'vpn-1',
      client_ip: '198.51.100.7',
      latency_ms: 250,
      time: 1_250,
    }),
  ]);
  expect(JSON.stringify(page.value)).not.toContain('123456');
});
