import { REPLY } from '@duo-edge/contract/messages';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RelayRuntime } from '../../local-relay/src/cli/runtime.ts';
import { CODE_NAME, RadiusLoginClient } from '../bench/lib/radius-load.ts';
import { testSitesConfig } from '../support/edge-bindings.ts';
import { RELAY_C_KEY } from '../support/keys.ts';
import {
  type DuoAndEdge,
  freeUdpPort,
  STACK_RADIUS_SECRET,
  stackDir,
  startDuoAndEdge,
  startRelayInProcess,
  writeRelayConfig,
} from '../support/stack.ts';

/**
 * One broken entry in SITES_CONFIG disables its own site only, and fails closed: site-c is a safe
 * site whose relay_keys list holds something that is not a key; site-a (safe, valid) shares the
 * document. Real relays → the worker in workerd → the Duo emulator.
 */

let stack: DuoAndEdge;
const relays: RelayRuntime[] = [];
const clients: RadiusLoginClient[] = [];

async function relayOf(site: 'site-a' | 'site-c'): Promise<RadiusLoginClient> {
  const port = await freeUdpPort();
  const file = await writeRelayConfig(await stackDir(`site-misconfig-${site}`), {
    site,
    failmode: 'safe',
    edgeUrls: [stack.edgeUrl],
    radiusPort: port,
    preauthTimeoutMs: 5_000,
    authTimeoutMs: 10_000,
  });
  // site-c's relay never gets a policy (its site is refused): both start on their own failmode, safe.
  relays.push(await startRelayInProcess(file, { waitForPolicyMs: 0 }));
  const client = await RadiusLoginClient.open({ port, secret: STACK_RADIUS_SECRET, lanes: 1 });
  clients.push(client);
  return client;
}

let broken: RadiusLoginClient;
let healthy: RadiusLoginClient;

beforeAll(async () => {
  const config = testSitesConfig();
  const siteC = config.sites['site-c']!;
  config.sites['site-c'] = { ...siteC, failmode: 'safe', relay_keys: [RELAY_C_KEY.publicKey, 'not-a-key'] };
  stack = await startDuoAndEdge({ sitesConfig: JSON.stringify(config) });
  broken = await relayOf('site-c');
  healthy = await relayOf('site-a');
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(relays.map((r) => r.stop(0)));
  await stack?.close();
});

it('the broken safe site rejects with the fail-secure text, exactly once per request', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await broken.login({ username: 'alice', password: 'alice-pass' }, { timeoutMs: 10_000 });
    // Late duplicates would land here.
    await new Promise((res) => setTimeout(res, 300));
    expect(r.replies.map((x) => [CODE_NAME[x.code], x.replyMessage])).toEqual([['Reject', REPLY.failSecureDenied]]);
  }
  expect(broken.unmatched).toBe(0);
  expect(stack.emulator.state.requests.filter((r) => r.params.username?.[0] === 'alice')).toEqual([]);
});

it('the valid safe site in the same document still lets alice in through Duo', async () => {
  const r = await healthy.login({ username: 'alice', password: 'alice-pass' }, { timeoutMs: 10_000 });
  expect(r.replies.map((x) => [CODE_NAME[x.code], x.replyMessage])).toEqual([['Accept', 'Success. Logging you in...']]);
});
