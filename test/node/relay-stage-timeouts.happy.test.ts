import type { SitePolicy } from '@duo-edge/contract/wire';
import { describe, expect, it } from 'vitest';
import { correctionText, EDGE_DEADLINE_MARGIN_MS, stageTimeouts } from '../../local-relay/src/edge/stage-timeouts.ts';

const POLICY: SitePolicy = {
  site: 'site-a',
  version: 'v1',
  failmode: 'safe',
  factors: ['auto'],
  exempt_usernames: [],
  limits: { push_per_window: 5, passcode_failures_per_window: 10, window_seconds: 600 },
  options: {
    duo_only_failopen_acknowledged: false,
    push_async: true,
    preauth_deadline_ms: 20_000,
    auth_deadline_ms: 90_000,
  },
  edge_time: 1_700_000_000,
};

describe('relay stage timeouts outlast the edge deadlines', () => {
  it('the config defaults already exceed the edge defaults (10 s, 65 s) plus the margin', () => {
    const t = stageTimeouts({ preauth_timeout_ms: 12_000, auth_timeout_ms: 70_000 }, undefined);
    expect(t.preauth).toMatchObject({ effectiveMs: 12_000, corrected: false, edgeDeadlineMs: 10_000 });
    expect(t.auth).toMatchObject({ effectiveMs: 70_000, corrected: false, edgeDeadlineMs: 65_000 });
  });

  it('a short configured timeout is raised to the edge deadline plus the margin, and named', () => {
    const t = stageTimeouts({ preauth_timeout_ms: 5_000, auth_timeout_ms: 70_000 }, undefined);
    expect(t.preauth).toMatchObject({ corrected: true, effectiveMs: 10_000 + EDGE_DEADLINE_MARGIN_MS });
    expect(correctionText(t.preauth)).toMatch(/^edge\.preauth_timeout_ms = 5000 .* using 12000 ms/);
  });

  it("the signed site policy's deadlines win over the edge defaults", () => {
    const t = stageTimeouts({ preauth_timeout_ms: 12_000, auth_timeout_ms: 70_000 }, POLICY);
    expect(t.preauth).toMatchObject({ corrected: true, effectiveMs: 22_000, deadlineFrom: 'site policy' });
    expect(t.auth).toMatchObject({ corrected: true, effectiveMs: 92_000, key: 'edge.auth_timeout_ms' });
    const longer = stageTimeouts({ preauth_timeout_ms: 30_000, auth_timeout_ms: 100_000 }, POLICY);
    expect(longer.preauth).toMatchObject({ corrected: false, effectiveMs: 30_000 });
    expect(longer.auth).toMatchObject({ corrected: false, effectiveMs: 100_000 });
  });
});
