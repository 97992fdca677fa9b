import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair } from '@duo-edge/contract/ed25519';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_NAME, type RadiusLoginClient } from '../bench/lib/radius-load.ts';
import { testSitesConfig } from '../support/edge-bindings.ts';
import { EDGE_KEY, RELAY_A_KEY, type TestKeyPair } from '../support/keys.ts';
import {
  type DuoAndEdge,
  type RelayProcess,
  type RelaySetup,
  type SpawnedRelay,
  scrapeMetric,
  spawnRelayWithClient,
  startDuoAndEdge,
  waitFor,
  writeRelayConfig,
} from '../support/stack.ts';

/**
 * The two key rotations of docs/deploy.md, step by step, against the real worker and a relay run
 * as `duo-relay start`: every login before and after each step is a real Duo approval (source
 * `duo` in the edge's audit log), none is failed and none is a failmode answer. Logins are made
 * only between steps, never while the edge restarts.
 */

let stack: DuoAndEdge;
let spawned: SpawnedRelay;
let relay: RelayProcess;
let client: RadiusLoginClient;
let dir: string;
let setup: RelaySetup;
let nextEdgeKey: TestKeyPair;
let nextRelayKey: TestKeyPair;
let station = 0;
let duoLogins = 0;

/** site-a's relay keys as the edge's SITES_CONFIG lists them. */
function sitesConfig(relayKeys: Array<{ key: string; name: string; revoked?: boolean }>): string {
  const config = testSitesConfig();
  config.sites['site-a']!.relay_keys = relayKeys;
  return JSON.stringify(config);
}

/** One login for alice (push approved by the emulator); returns the edge's audit record of it. */
async function duoLogin() {
  await waitFor(
    async () => (await scrapeMetric(relay.managementUrl, 'duo_relay_breaker_state')) === 0,
    10_000,
    'relay breaker closed',
  );
  const ip = `192.0.2.${++station}`;
  const since = Date.now();
  const r = await client.login(
    { username: 'alice', password: 'alice-pass', callingStationId: ip },
    { timeoutMs: 20_000 },
  );
  expect(r.replies, 'exactly one answer').toHaveLength(1);
  expect(CODE_NAME[r.replies[0]!.code]).toBe('Accept');
  let records: Awaited<ReturnType<DuoAndEdge['decisions']>> = [];
  await waitFor(
    async () => {
      records = (await stack.decisions({ site: 'site-a', user: 'alice', from: since })).filter(
        (d) => d.client_ip === ip && d.stage === 'auth',
      );
      return records.length > 0;
    },
    5_000,
    `the audit record of ${ip}`,
  );
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ source: 'duo', result: 'allow' });
  duoLogins++;
  return records[0]!;
}

/** Rewrites relay.toml (`edit` on top of the setup) and sends SIGHUP; resolves once reloaded. */
async function reloadRelay(next: Partial<RelaySetup>, edit: (toml: string) => string = (t) => t): Promise<void> {
  setup = { ...setup, ...next };
  const file = await writeRelayConfig(dir, setup);
  await writeFile(file, edit(await readFile(file, 'utf8')));
  const reloads = () => relay.output().split('configuration reloaded').length - 1;
  const before = reloads();
  process.kill(relay.pid, 'SIGHUP');
  await waitFor(async () => reloads() > before, 10_000, 'the relay to reload');
  expect(relay.output()).not.toMatch(/reload failed/);
}

async function restartEdge(bindings: { EDGE_SIGNING_KEY?: string; SITES_CONFIG?: string }): Promise<void> {
  await stack.stopEdge();
  await stack.startEdgeAgain(bindings);
}

beforeAll(async () => {
  nextEdgeKey = await generateKeyPair();
  nextRelayKey = await generateKeyPair();
  stack = await startDuoAndEdge({ emulator: { pushDelayMs: 100 } });
  spawned = await spawnRelayWithClient('key-rotation', {
    site: 'site-a',
    failmode: 'safe',
    edgeUrls: [stack.edgeUrl],
    logLevel: 'info',
    probeIntervalMs: 200,
  });
  ({ relay, client, dir, setup } = spawned);
}, 120_000);

afterAll(async () => {
  await spawned?.close();
  await stack?.close();
});

describe('edge signing key rotation (A → B)', () => {
  it('1. the relay pins the current and the next key; the edge still signs with A', async () => {
    await duoLogin();
    await reloadRelay({ edgePublicKeys: [EDGE_KEY.publicKey, nextEdgeKey.publicKey] });
    await duoLogin();
  });

  it('2. the edge switches to B (EDGE_SIGNING_KEY, redeploy)', async () => {
    await restartEdge({ EDGE_SIGNING_KEY: nextEdgeKey.privateKeyPem });
    await duoLogin();
  });

  it('3. the relay drops A (SIGHUP); an answer signed with A is then refused, never failed open', async () => {
    await reloadRelay({ edgePublicKeys: [nextEdgeKey.publicKey] });
    await duoLogin();
    // Proof that the reload applied: an edge still signing with A is no longer believed.
    await restartEdge({ EDGE_SIGNING_KEY: EDGE_KEY.privateKeyPem });
    const r = await client.login(
      { username: 'alice', password: 'alice-pass', callingStationId: `192.0.2.${++station}` },
      { timeoutMs: 20_000 },
    );
    expect(r.replies.map((x) => CODE_NAME[x.code])).toEqual(['Reject']);
    await restartEdge({ EDGE_SIGNING_KEY: nextEdgeKey.privateKeyPem });
    await duoLogin();
  });
});

describe('relay key rotation (old → new)', () => {
  const OLD = { key: RELAY_A_KEY.publicKey, name: 'relay-a1' };

  it('1. the edge lists the old and the new key for the site', async () => {
    await restartEdge({ SITES_CONFIG: sitesConfig([OLD, { key: nextRelayKey.publicKey, name: 'relay-a2' }]) });
    expect(await duoLogin()).toMatchObject({ relay: RELAY_A_KEY.publicKey });
  });

  it('2. the relay switches key_file to the new key (SIGHUP)', async () => {
    await writeFile(join(dir, 'relay-next.key'), nextRelayKey.privateKeyPem, { mode: 0o600 });
    await reloadRelay({}, (toml) => toml.replace('key_file = "relay.key"', 'key_file = "relay-next.key"'));
    expect(await duoLogin()).toMatchObject({ relay: nextRelayKey.publicKey });
  });

  it('3. the edge revokes the old key', async () => {
    await restartEdge({
      SITES_CONFIG: sitesConfig([
        { ...OLD, revoked: true },
        { key: nextRelayKey.publicKey, name: 'relay-a2' },
      ]),
    });
    expect(await duoLogin()).toMatchObject({ relay: nextRelayKey.publicKey });
  });
});

describe('throughout', () => {
  it('every allow came from Duo; no login failed but the deliberate one signed with the removed key', async () => {
    const decisions = async (labels: string) =>
      (await scrapeMetric(relay.managementUrl, 'duo_relay_decisions_total', labels)) ?? 0;
    expect(await decisions('result="allow",source="duo"')).toBe(duoLogins);
    expect(await decisions('result="allow",source="failmode-relay"')).toBe(0);
    expect(await decisions('result="allow",source="failmode-edge"')).toBe(0);
    expect(await decisions('result="deny",source="duo"')).toBe(0);
    expect(await decisions('result="deny",source="failmode-edge"')).toBe(0);
    expect(await decisions('result="deny",source="failmode-relay"')).toBe(1);
    expect(client.unmatched).toBe(0);
  });

  it('the relay printed no runtime warning while it rotated and reloaded keys (an admin reads them as faults)', () => {
    expect(relay.output()).not.toMatch(/Warning:/);
  });
});
