import { rm } from 'node:fs/promises';
import { REPLY } from '@duo-edge/contract/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RadclientReply, radclient } from '../support/radclient.ts';
import {
  type DuoAndEdge,
  freeTcpPort,
  freeUdpPort,
  type RelayProcess,
  STACK_RADIUS_SECRET,
  spawnRelay,
  stackDir,
  startDuoAndEdge,
  writeRelayConfig,
} from '../support/stack.ts';

/**
 * Challenge mode through radclient → `duo-relay start` → the edge in workerd → the Duo emulator,
 * which answers preauth as real Duo does: devices and capabilities, no prompt. The menu the user
 * sees is the relay's, and each option reaches Duo as the factor and device it names.
 */

let stack: DuoAndEdge;
let relay: RelayProcess;
let dir: string;
const ports = { radius: 0 };

beforeAll(async () => {
  stack = await startDuoAndEdge({ emulator: { pushDelayMs: 200 } });
  dir = await stackDir('challenge-menu');
  ports.radius = await freeUdpPort();
  const management = await freeTcpPort();
  const file = await writeRelayConfig(dir, {
    site: 'site-a',
    failmode: 'safe',
    edgeUrls: [stack.edgeUrl],
    radiusPort: ports.radius,
    managementPort: management,
    mode: 'challenge',
  });
  relay = await spawnRelay(file, management);
}, 60_000);

afterAll(async () => {
  await relay?.stop(2000);
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function login(user: string, password: string, state?: string): Promise<RadclientReply> {
  return radclient({
    port: ports.radius,
    secret: STACK_RADIUS_SECRET,
    attributes: [`User-Name = "${user}"`, `User-Password = "${password}"`, ...(state ? [`State = ${state}`] : [])],
    timeoutS: 20,
    retries: 1,
  });
}

const attr = (r: RadclientReply, name: string) => r.attributes.find((a) => a.name === name)?.value;
const duoAuths = () =>
  stack.emulator.state.requests
    .filter((r) => r.endpoint === 'auth')
    .map((r) => ({ factor: r.params.factor?.[0], device: r.params.device?.[0] }));

describe('challenge mode against Duo-shaped preauth answers', () => {
  it('shows the numbered menu of alice’s phone; option 1 is a push to that phone', async () => {
    stack.emulator.state.clearRequests();
    const first = await login('alice', 'alice-pass');
    expect(first.code).toBe('Access-Challenge');
    const preauth = stack.emulator.state.requests.find((r) => r.endpoint === 'preauth');
    expect(preauth?.params.text_prompt).toBeUndefined();
    expect(attr(first, 'Reply-Message')).toBe(
      'Duo two-factor login for alice\n\nEnter a passcode or select one of the following options:\n\n' +
        ' 1. Duo Push to XXX-XXX-0001\n 2. Phone call to XXX-XXX-0001\n 3. SMS passcodes to XXX-XXX-0001\n\n' +
        'Passcode or option (1-3): ',
    );
    const second = await login('alice', '1', attr(first, 'State'));
    expect(second.code).toBe('Access-Accept');
    expect(duoAuths()).toEqual([{ factor: 'push', device: 'DPALICE0000000000001' }]);
  });

  it('option 3 sends SMS passcodes, challenges again, and the passcode then logs alice in', async () => {
    stack.emulator.state.clearRequests();
    const first = await login('alice', 'alice-pass');
    const again = await login('alice', '3', attr(first, 'State'));
    expect(again.code).toBe('Access-Challenge');
    expect(attr(again, 'Reply-Message')).toBe(attr(first, 'Reply-Message'));
    expect(attr(again, 'State')).not.toBe(attr(first, 'State'));
    const done = await login('alice', '123456', attr(again, 'State'));
    expect(done.code).toBe('Access-Accept');
    expect(duoAuths()).toEqual([
      { factor: 'sms', device: 'DPALICE0000000000001' },
      { factor: 'passcode', device: undefined },
    ]);
  });

  it('an option outside the menu: Reject "Unknown Challenge", nothing sent to Duo', async () => {
    stack.emulator.state.clearRequests();
    const first = await login('alice', 'alice-pass');
    const wrong = await login('alice', '9', attr(first, 'State'));
    expect(wrong.code).toBe('Access-Reject');
    expect(attr(wrong, 'Reply-Message')).toBe(REPLY.unknownChallenge);
    expect(duoAuths()).toEqual([]);
  });
});
