import { env, exports } from 'cloudflare:workers';
import { healthResponseSchema } from '@duo-edge/contract/wire';
import { describe, expect, inject, it } from 'vitest';
import type { DuoClient } from '../../src/duo/api.ts';
import type { DuoResult } from '../../src/duo/result.ts';
import { createEdge } from '../../src/edge/create.ts';

const emulator = inject('duoBaseUrl');

describe('GET /v1/health', () => {
  it('answers without authentication, with Duo reachability from /auth/v2/check', async () => {
    const res = await exports.default.fetch('https://edge.test/v1/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    const body = healthResponseSchema.parse(JSON.parse(text));
    expect(body).toMatchObject({ ok: true, duo: { reachable: true } });
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.duo.checked_at).toBeGreaterThan(1_600_000_000);
    expect(text).not.toMatch(/DIDEMO|demoSecret|api-demo|site-a/);
  });

  it('caches the check: repeated probes make no further Duo calls', async () => {
    await exports.default.fetch('https://edge.test/v1/health');
    await fetch(`${emulator}/_emulator/requests`, { method: 'DELETE' });
    for (let i = 0; i < 3; i++) expect((await exports.default.fetch('https://edge.test/v1/health')).status).toBe(200);
    const { requests } = (await (await fetch(`${emulator}/_emulator/requests`)).json()) as { requests: unknown[] };
    expect(requests).toEqual([]);
  });

  it('refreshes at most every 60 s and reports Duo unreachable', async () => {
    let now = 1_900_000_000_000;
    let checks = 0;
    let answer: DuoResult<{ time: number }> = { ok: true, value: { time: 0 } };
    const duo = {
      check: async () => {
        checks++;
        return answer;
      },
    } as unknown as DuoClient;
    const app = createEdge({ createDuo: () => duo, now: () => now }).app;
    const health = async () => healthResponseSchema.parse(await (await app.request('/v1/health', {}, env)).json());

    expect((await health()).duo).toEqual({ reachable: true, checked_at: 1_900_000_000 });
    answer = { ok: false, error: { kind: 'transport', reason: 'network', detail: 'refused' } };
    now += 59_000;
    expect((await health()).duo.reachable).toBe(true);
    expect(checks).toBe(1);
    now += 1_000;
    expect((await health()).duo).toEqual({ reachable: false, checked_at: 1_900_000_060 });
    expect(checks).toBe(2);
  });
});
