import { appendFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { REPLY } from '@duo-edge/contract/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckLine, runChecks } from '../../local-relay/src/cli/check.ts';
import { CODE_NAME, RadiusLoginClient } from '../bench/lib/radius-load.ts';
import { testSitesConfig } from '../support/edge-bindings.ts';
import { RELAY_A_KEY } from '../support/keys.ts';
import {
  type DuoAndEdge,
  freeTcpPort,
  freeUdpPort,
  type RelayProcess,
  STACK_RADIUS_SECRET,
  scrapeMetric,
  siteServerToml,
  spawnRelay,
  stackDir,
  startDuoAndEdge,
  waitFor,
  writeRelayConfig,
} from '../support/stack.ts';

/**
 * One relay, one key, two sites: `[relay] site = "site-a"` (safe) and a second `[[server]]` with
 * `site = "site-b"` (secure), the key registered on both. Each section signs with its own site,
 * so the edge audits each login under its site, and with the edge gone each applies its own
 * site's failmode.
 */

let stack: DuoAndEdge;
let dir: string;
let file: string;
let relay: RelayProcess;
let safe: RadiusLoginClient;
let secure: RadiusLoginClient;

beforeAll(async () => {
  const sites = testSitesConfig();
  sites.sites['site-b']!.relay_keys = [...(sites.sites['site-b']!.relay_keys ?? []), RELAY_A_KEY.publicKey];
  stack = await startDuoAndEdge({ sitesConfig: JSON.stringify(sites) });
  dir = await stackDir('multi-site');
  const [safePort, securePort, managementPort] = [await freeUdpPort(), await freeUdpPort(), await freeTcpPort()];
  file = await writeRelayConfig(dir, {
    site: 'site-a',
    edgeUrls: [stack.edgeUrl],
    radiusPort: safePort,
    managementPort,
    breakerThreshold: 1,
    // Heartbeats soon after the logins, so the edge shows each site's counters.
    edgeExtraToml: 'heartbeat_interval_ms = 300',
  });
  await appendFile(file, siteServerToml('site-b', securePort));
  relay = await spawnRelay(file, managementPort);
  safe = await RadiusLoginClient.open({ port: safePort, secret: STACK_RADIUS_SECRET, lanes: 1 });
  secure = await RadiusLoginClient.open({ port: securePort, secret: STACK_RADIUS_SECRET, lanes: 1 });
  // Each site's signed policy, saved where that site keeps its state.
  await waitFor(
    async () =>
      Promise.all([
        stat(join(dir, 'state/site-policy.json')),
        stat(join(dir, 'state/sites/site-b/site-policy.json')),
      ]).then(
        () => true,
        () => false,
      ),
    20_000,
    'both site policies',
  );
}, 120_000);

afterAll(async () => {
  await safe?.close();
  await secure?.close();
  await relay?.stop();
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const login = (client: RadiusLoginClient, username: string, station: string) =>
  client.login({ username, password: `${username}-pass`, callingStationId: station }, { timeoutMs: 20_000 });

/** The relay's last heartbeat for a site as the edge stored it, once it is newer than `after`. */
async function heartbeatAfter(site: string, after: number) {
  let row: Awaited<ReturnType<DuoAndEdge['relays']>>[number] | undefined;
  await waitFor(
    async () => {
      row = (await stack.relays()).find((r) => r.site === site && r.key === RELAY_A_KEY.publicKey);
      return row !== undefined && row.last_seen > after;
    },
    10_000,
    `a heartbeat for ${site}`,
  );
  return row!;
}

describe('several sites on one relay', () => {
  it('duo-relay check checks the key, policy and failmode of each site', async () => {
    const lines: CheckLine[] = [];
    expect(await runChecks(file, (l) => lines.push(l))).toBe(true);
    const named = (name: string) => lines.find((l) => l.name === name)?.detail;
    expect(named(`relay key at ${stack.edgeUrl} for site site-a`)).toBe('accepted (failmode safe)');
    expect(named(`relay key at ${stack.edgeUrl} for site site-b`)).toBe('accepted (failmode secure)');
    expect(named('failmode for site site-a')).toMatch(/^safe at start .*signed site policy/);
    expect(named('failmode for site site-b')).toMatch(/^secure at start .*signed site policy/);
  });

  it("each site's heartbeat carries its own counters: logins on site-a only show at site-a", async () => {
    for (const [user, station] of [
      ['alice', '192.0.2.31'],
      ['carol', '192.0.2.32'],
    ] as const) {
      expect(CODE_NAME[(await login(safe, user, station)).replies[0]!.code]).toBe('Accept');
    }
    const after = Date.now();
    const [siteA, siteB] = [await heartbeatAfter('site-a', after), await heartbeatAfter('site-b', after)];
    expect(siteA.counters).toMatchObject({ access_requests: 2, accepts: 2, decisions_allow: 2, failmode_allows: 0 });
    expect(siteB.counters).toMatchObject({ access_requests: 0, accepts: 0, decisions_allow: 0 });
    // Packets no section claims are the relay's: the [relay] site reports them, once.
    expect(siteA.counters.packets_received).toBeGreaterThanOrEqual(2);
    expect(siteB.counters).not.toHaveProperty('packets_received');
  });

  it('asks Duo for each section under its own site, and the edge audits it there', async () => {
    const since = Date.now();
    const [a, b] = await Promise.all([login(safe, 'alice', '192.0.2.41'), login(secure, 'bob', '192.0.2.42')]);
    expect(CODE_NAME[a.replies[0]!.code]).toBe('Accept');
    // The emulator's bob denies the push: Duo's own answer, through site-b.
    expect(CODE_NAME[b.replies[0]!.code]).toBe('Reject');
    await waitFor(
      async () => {
        const [siteA, siteB] = await Promise.all([
          stack.decisions({ site: 'site-a', from: since }),
          stack.decisions({ site: 'site-b', from: since }),
        ]);
        return (
          siteA.some((d) => d.username === 'alice' && d.client_ip === '192.0.2.41' && d.source === 'duo') &&
          siteB.some(
            (d) => d.username === 'bob' && d.client_ip === '192.0.2.42' && d.source === 'duo' && d.result === 'deny',
          ) &&
          !siteA.some((d) => d.username === 'bob') &&
          !siteB.some((d) => d.username === 'alice')
        );
      },
      5_000,
      'each login audited under its own site',
    );
  });

  it('with the edge down, the safe section lets in and the secure one denies', async () => {
    // Which failmode each site would apply, and how fresh its signed policy is, before the outage.
    const metric = (name: string, labels: string) => scrapeMetric(relay.managementUrl, name, labels);
    expect(await metric('duo_relay_failmode', 'site="site-a",failmode="safe"')).toBe(1);
    expect(await metric('duo_relay_failmode', 'site="site-b",failmode="secure"')).toBe(1);
    expect(await metric('duo_relay_failmode', 'site="site-b",failmode="safe"')).toBe(0);
    for (const site of ['site-a', 'site-b']) {
      expect(await metric('duo_relay_site_policy_age_seconds', `site="${site}"`)).toBeLessThan(120);
    }
    await stack.stopEdge();
    const a = await login(safe, 'carol', '192.0.2.43');
    const b = await login(secure, 'dave', '192.0.2.44');
    expect([CODE_NAME[a.replies[0]!.code], a.replies[0]!.replyMessage]).toEqual(['Accept', REPLY.failSafeAllowed]);
    expect([CODE_NAME[b.replies[0]!.code], b.replies[0]!.replyMessage]).toEqual(['Reject', REPLY.failSecureDenied]);
    // Each site's breaker under its own label.
    for (const site of ['site-a', 'site-b']) {
      expect(await metric('duo_relay_breaker_state', `site="${site}"`)).toBe(1);
    }
  });
});
