import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SitePolicy } from '@duo-edge/contract/wire';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadPolicy, savePolicy } from '../../local-relay/src/edge/policy-file.ts';
import type { EdgeResult } from '../../local-relay/src/edge/result.ts';
import { createSitePolicyStore, failmodeReason } from '../../local-relay/src/edge/site-policy.ts';

const POLICY: SitePolicy = {
  site: 'site-a',
  version: 'v7',
  failmode: 'secure',
  factors: ['auto'],
  exempt_usernames: [],
  limits: { push_per_window: 5, passcode_failures_per_window: 10, window_seconds: 600 },
  edge_time: 1_700_000_000,
};

function store(
  dir: string,
  answer: () => EdgeResult<SitePolicy>,
  config: { failmode?: 'safe' | 'secure' } = { failmode: 'safe' },
) {
  return createSitePolicyStore({
    site: 'site-a',
    file: join(dir, 'site-policy.json'),
    configFailmode: config.failmode,
    client: { site: async () => answer() },
    refreshMs: 60_000,
    logger: pino({ level: 'silent' }),
  });
}

describe('site policy', () => {
  it('config failmode only until the first fetch; then the edge policy, saved and reloaded at the next start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policy-'));
    const first = store(dir, () => ({ kind: 'ok', value: POLICY }));
    await first.load();
    expect(first.current()).toEqual({ failmode: 'safe', from: 'config' });
    expect(await first.refresh()).toBe(true);
    expect(first.current()).toMatchObject({ failmode: 'secure', from: 'edge' });

    const restarted = store(dir, () => ({ kind: 'transport', cause: 'refused' }));
    await restarted.load();
    expect(await restarted.refresh()).toBe(false);
    expect(restarted.current()).toMatchObject({ failmode: 'secure', from: 'disk' });
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('before any signed policy and with relay.failmode unset: secure, and says why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policy-'));
    const fresh = store(dir, () => ({ kind: 'transport', cause: 'refused' }), {});
    await fresh.load();
    expect(await fresh.refresh()).toBe(false);
    expect(fresh.current()).toEqual({ failmode: 'secure', from: 'default' });
    expect(failmodeReason(fresh.current())).toMatch(/^default secure/);
    expect(failmodeReason(store(dir, () => ({ kind: 'ok', value: POLICY })).current())).toMatch(/^configured/);
    const fetched = store(dir, () => ({ kind: 'ok', value: { ...POLICY, failmode: 'safe' } }), {});
    await fetched.refresh();
    expect(fetched.current()).toMatchObject({ failmode: 'safe', from: 'edge' });
    expect(failmodeReason(fetched.current())).toBe('signed site policy (version v7)');
  });

  it('ignores a corrupt file, or one saved for another site', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policy-'));
    const file = join(dir, 'site-policy.json');
    await writeFile(file, '{"site":"site-a","failmode":');
    expect(await loadPolicy(file, 'site-a')).toMatchObject({ ok: false, error: { kind: 'invalid' } });
    await savePolicy(file, { ...POLICY, site: 'site-b' });
    expect(await loadPolicy(file, 'site-a')).toMatchObject({ ok: false, error: { kind: 'invalid' } });
    const s = store(dir, () => ({ kind: 'transport', cause: 'refused' }));
    await s.load();
    expect(s.failmode()).toBe('safe');
  });

  it('refuses a policy for another site from the edge', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policy-'));
    const s = store(dir, () => ({ kind: 'ok', value: { ...POLICY, site: 'site-b' } }));
    expect(await s.refresh()).toBe(false);
    expect(s.failmode()).toBe('safe');
  });

  it('a save replaces the file whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policy-'));
    const file = join(dir, 'p.json');
    await savePolicy(file, POLICY);
    await savePolicy(file, { ...POLICY, version: 'v8' });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ ...POLICY, version: 'v8' });
  });
});
