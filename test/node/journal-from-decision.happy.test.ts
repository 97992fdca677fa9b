import { expect, it } from 'vitest';
import type { FlowDecision } from '../../local-relay/src/flow/decision.ts';
import { journalEntryOf } from '../../local-relay/src/journal/from-decision.ts';
import { journalRecordSchema } from '../../local-relay/src/journal/record.ts';

const decision = (overrides: Partial<FlowDecision> = {}): FlowDecision => ({
  id: '6f1c2d3e-1111-4222-8333-944455566677',
  time: 1_700_000_000_000,
  mode: 'auto',
  username: 'alice',
  nas_ip: '192.0.2.1',
  client_ip: '198.51.100.7',
  stage: 'preauth',
  result: 'allow',
  reason: 'Failmode Safe - Allowed Duo login on preauth failure',
  source: 'failmode-relay',
  edge_failure: 'timeout',
  latency_ms: 12.6,
  ...overrides,
});

it('journals the relay failmode decision with its own id, as a valid upload record', () => {
  const entry = journalEntryOf(decision());
  expect(entry).toEqual({
    id: '6f1c2d3e-1111-4222-8333-944455566677',
    time: 1_700_000_000_000,
    username: 'alice',
    nas_ip: '192.0.2.1',
    client_ip: '198.51.100.7',
    stage: 'preauth',
    factor: null,
    result: 'allow',
    reason: 'Failmode Safe - Allowed Duo login on preauth failure (timeout)',
    source: 'failmode-relay',
    latency_ms: 13,
  });
  expect(journalRecordSchema.safeParse(entry).success).toBe(true);
});

it('journals local exemptions, and keeps a known factor', () => {
  expect(journalEntryOf(decision({ source: 'exempt', stage: 'primary', edge_failure: undefined }))).toMatchObject({
    source: 'exempt',
    stage: 'preauth',
    reason: 'Failmode Safe - Allowed Duo login on preauth failure',
  });
  expect(journalEntryOf(decision({ stage: 'auth', factor: 'push' }))).toMatchObject({ stage: 'auth', factor: 'push' });
  expect(journalEntryOf(decision({ stage: 'auth', factor: 'push2' }))).toMatchObject({ factor: null });
});

it('leaves out what the edge decided or what is not a decision', () => {
  for (const source of ['duo', 'failmode-edge', 'policy', 'primary', 'relay'] as const) {
    expect(journalEntryOf(decision({ source }))).toBeNull();
  }
  expect(journalEntryOf(decision({ result: 'challenge' }))).toBeNull();
});

it('leaves out an exemption the edge answered at preauth: the edge audited it already', () => {
  const edgeExempt = decision({ source: 'exempt', stage: 'preauth', reason: 'User exempted from 2FA' });
  expect(journalEntryOf({ ...edgeExempt, edge_failure: undefined })).toBeNull();
});
