import { rm } from 'node:fs/promises';
import { REPLY } from '@duo-edge/contract/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayRuntime } from '../../local-relay/src/cli/runtime.ts';
import { CODE_NAME, RadiusLoginClient } from '../bench/lib/radius-load.ts';
import { testSitesConfig } from '../support/edge-bindings.ts';
import { RELAY_A_KEY } from '../support/keys.ts';
import { ldapwhoami, writeLdapProxyConfig } from '../support/ldap-proxy.ts';
import { type Slapd, startSlapd } from '../support/slapd.ts';
import {
  type DuoAndEdge,
  freeTcpPort,
  freeUdpPort,
  STACK_RADIUS_SECRET,
  stackDir,
  startDuoAndEdge,
  startRelayInProcess,
  waitFor,
} from '../support/stack.ts';

/**
 * An `[[ldap_server]]` with its own `site`: `[relay] site = "site-b"` (secure) serves RADIUS, the
 * LDAP listener says `site = "site-a"` (safe), one key registered on both. A bind is decided under
 * site-a: audited there, and with the edge down let in by site-a's failmode while a RADIUS login
 * on the same relay is denied by site-b's.
 */

let stack: DuoAndEdge;
let slapd: Slapd;
let dir: string;
let relay: RelayRuntime;
let radius: RadiusLoginClient;
let ldapUrl: string;

const dn = (user: string) => `uid=${user},ou=people,dc=example,dc=org`;
const bind = (user: string) => ldapwhoami({ url: ldapUrl }, dn(user), `${user}-pass`);
const login = (username: string, station: string) =>
  radius.login({ username, password: `${username}-pass`, callingStationId: station }, { timeoutMs: 20_000 });

beforeAll(async () => {
  const sites = testSitesConfig();
  sites.sites['site-b']!.relay_keys = [...(sites.sites['site-b']!.relay_keys ?? []), RELAY_A_KEY.publicKey];
  [stack, slapd] = await Promise.all([startDuoAndEdge({ sitesConfig: JSON.stringify(sites) }), startSlapd()]);
  dir = await stackDir('ldap-site');
  const [radiusPort, ldapPort] = [await freeUdpPort(), await freeTcpPort()];
  ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
  const file = await writeLdapProxyConfig(dir, {
    site: 'site-b',
    failmode: 'secure',
    relayKeyPem: RELAY_A_KEY.privateKeyPem,
    edgeUrls: [stack.edgeUrl],
    radiusPort,
    breakerThreshold: 1,
    slapd,
    ldapPort,
    section: ['site = "site-a"'],
  });
  relay = await startRelayInProcess(file);
  // The LDAP site's own signed policy (safe), fetched by its own unit.
  await waitFor(
    async () => relay.sites.get('site-a')?.policy.current().from === 'edge',
    20_000,
    "site-a's policy from the edge",
  );
  radius = await RadiusLoginClient.open({ port: radiusPort, secret: STACK_RADIUS_SECRET, lanes: 1 });
}, 120_000);

afterAll(async () => {
  await radius?.close();
  await relay?.stop(0);
  await Promise.all([slapd?.stop(), stack?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('an [[ldap_server]] on its own site', () => {
  it("asks Duo under the section's site, and the edge audits the bind there", async () => {
    const since = Date.now();
    const r = await bind('alice');
    expect([r.code, r.stdout.trim()]).toEqual([0, `dn:${dn('alice')}`]);
    await waitFor(
      async () => {
        const [siteA, siteB] = await Promise.all([
          stack.decisions({ site: 'site-a', user: 'alice', from: since }),
          stack.decisions({ site: 'site-b', user: 'alice', from: since }),
        ]);
        return siteA.some((d) => d.source === 'duo' && d.result === 'allow') && siteB.length === 0;
      },
      5_000,
      'the bind audited under site-a only',
    );
  });

  it("with the edge down, the bind gets site-a's failmode (safe) and RADIUS site-b's (secure)", async () => {
    await stack.stopEdge();
    const r = await bind('carol');
    expect([r.code, r.stdout.trim()]).toEqual([0, `dn:${dn('carol')}`]);
    const nas = await login('dave', '192.0.2.51');
    expect([CODE_NAME[nas.replies[0]!.code], nas.replies[0]!.replyMessage]).toEqual(['Reject', REPLY.failSecureDenied]);
    // And each site's breaker saw its own edge call fail.
    expect(relay.sites.get('site-a')?.breaker.state).toBe('open');
    expect(relay.breaker.state).toBe('open');
  });
});
