import { errorResponseSchema } from '@duo-edge/contract/wire';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RelayRuntime } from '../../local-relay/src/cli/runtime.ts';
import { CODE_NAME, RadiusLoginClient } from '../bench/lib/radius-load.ts';
import {
  type DuoAndEdge,
  type EdgeFaultProxy,
  freeUdpPort,
  STACK_RADIUS_SECRET,
  stackDir,
  startDuoAndEdge,
  startEdgeFaultProxy,
  startRelayInProcess,
  writeRelayConfig,
} from '../support/stack.ts';

/**
 * A signed /v1/auth captured on the relay's network and played again while its timestamp is fresh:
 * the edge refuses it and Duo sends no second push. Real relay → recording proxy → the worker in
 * workerd → the Duo emulator.
 */

let stack: DuoAndEdge;
let proxy: EdgeFaultProxy;
let relay: RelayRuntime;
let nas: RadiusLoginClient;

beforeAll(async () => {
  stack = await startDuoAndEdge();
  proxy = await startEdgeFaultProxy(stack.edgeUrl);
  const port = await freeUdpPort();
  const file = await writeRelayConfig(await stackDir('replay'), {
    site: 'site-a',
    failmode: 'safe',
    edgeUrls: [proxy.url],
    radiusPort: port,
    preauthTimeoutMs: 5_000,
    authTimeoutMs: 10_000,
  });
  relay = await startRelayInProcess(file);
  nas = await RadiusLoginClient.open({ port, secret: STACK_RADIUS_SECRET, lanes: 1 });
});

afterAll(async () => {
  await nas?.close();
  await relay?.stop(0);
  await proxy?.close();
  await stack?.close();
});

it('a captured /v1/auth replayed to the edge is refused with 409 replayed, and sends no second push', async () => {
  stack.emulator.state.clearRequests();
  const login = await nas.login({ username: 'alice', password: 'alice-pass' }, { timeoutMs: 10_000 });
  expect(login.replies.map((r) => CODE_NAME[r.code])).toEqual(['Accept']);
  expect(stack.emulator.state.pushes.get('alice')).toBe(1);

  const auth = proxy.captured.find((r) => r.path === '/v1/auth');
  if (!auth) throw new Error('no /v1/auth went through the proxy');
  const { host: _host, connection: _c, 'content-length': _l, ...headers } = auth.headers;
  const replay = await fetch(`${stack.edgeUrl}/v1/auth`, { method: auth.method, headers, body: auth.body });
  expect(replay.status).toBe(409);
  expect(errorResponseSchema.parse(await replay.json()).error.code).toBe('replayed');
  expect(stack.emulator.state.pushes.get('alice')).toBe(1);
  expect(stack.emulator.state.requests.filter((r) => r.endpoint === 'auth')).toHaveLength(1);
});
