import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { REPLY } from '@duo-edge/contract/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FreeRadiusHandle, startFreeRadius } from '../support/freeradius.ts';
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
 * An upstream RADIUS primary that asks for a token's next code (FreeRADIUS 3.2 answering with an
 * Access-Challenge), behind `duo-relay start`, with the edge in workerd and the Duo emulator:
 * radclient as the NAS sees the upstream's question under the relay's own State, its answer goes
 * upstream, and Duo is asked only once the upstream has accepted.
 */

const UPSTREAM_SECRET = 'upstream-challenge-secret-5e7a9c';
/** The upstream's own States (hex): the NAS must never be able to use these with the relay. */
const TOKEN_STATE = '0x746f6b656e2d7374617465';
const PIN_STATE = '0x70696e2d7374617465';
const PIN_TOKEN_STATE = '0x70696e2d746f6b656e2d7374617465';

/** FreeRADIUS 3.2 unlang: answer with an Access-Challenge asking `text`, under `state`. */
const challengeWith = (state: string, text: string, extra = '') => `{
        update reply {
          &Reply-Message := "${text}"
          &State := ${state}${extra}
          &Message-Authenticator := 0x00
        }
        update control {
          &Response-Packet-Type := Access-Challenge
        }
        handled
      }`;

/**
 * `<user>-token-pass` → "Enter next token code" → 123456 accepts. `<user>-pin-pass` → "Enter a
 * new PIN" → 4321 → "PIN accepted. Enter next token code" → 654321 accepts. Anything else rejects.
 */
const TOKEN_POLICY = `
    if (!&State) {
      if (&User-Password == "%{User-Name}-token-pass") ${challengeWith(TOKEN_STATE, 'Enter next token code', '\n          &Prompt := Echo')}
      elsif (&User-Password == "%{User-Name}-pin-pass") ${challengeWith(PIN_STATE, 'Enter a new PIN')}
      reject
    }
    if (((&State == ${TOKEN_STATE}) && (&User-Password == "123456")) || ((&State == ${PIN_TOKEN_STATE}) && (&User-Password == "654321"))) {
      update control {
        &Auth-Type := Accept
      }
      update reply {
        &Filter-Id := "vpn-token"
      }
      ok
    }
    elsif ((&State == ${PIN_STATE}) && (&User-Password == "4321")) ${challengeWith(PIN_TOKEN_STATE, 'PIN accepted. Enter next token code')}
    else {
      reject
    }
`;

let stack: DuoAndEdge;
let upstream: FreeRadiusHandle;
type Mode = 'auto' | 'challenge' | 'concat';
const relays: Record<Mode, { process?: RelayProcess; port: number; dir: string }> = {
  auto: { port: 0, dir: '' },
  challenge: { port: 0, dir: '' },
  concat: { port: 0, dir: '' },
};

async function startRelay(mode: Mode) {
  const r = relays[mode];
  r.dir = await stackDir(`upstream-challenge-${mode}`);
  r.port = await freeUdpPort();
  const management = await freeTcpPort();
  const file = await writeRelayConfig(r.dir, {
    site: 'site-a',
    failmode: 'safe',
    edgeUrls: [stack.edgeUrl],
    radiusPort: r.port,
    managementPort: management,
    rejectDelayMs: 0,
    mode,
    logLevel: 'warn',
    primaryToml: `type = "radius"
hosts = ["127.0.0.1:${upstream.port}"]
secret = "${UPSTREAM_SECRET}"
retry_wait_ms = 1000
pass_through_attr_names = ["Filter-Id"]`,
  });
  r.process = await spawnRelay(file, management);
}

beforeAll(async () => {
  [stack, upstream] = await Promise.all([
    startDuoAndEdge({ emulator: { pushDelayMs: 200 } }),
    startFreeRadius({
      clients: [{ ip: '127.0.0.1', secret: UPSTREAM_SECRET }],
      users: [],
      authorizeFirst: TOKEN_POLICY,
      debug: true,
    }),
  ]);
  await Promise.all([startRelay('auto'), startRelay('challenge'), startRelay('concat')]);
}, 90_000);

afterAll(async () => {
  for (const r of Object.values(relays)) {
    await r.process?.stop(2000);
    if (r.dir) await rm(r.dir, { recursive: true, force: true });
  }
  await upstream?.stop();
  await stack?.close();
});

function login(user: string, password: string, state?: string, mode: Mode = 'auto') {
  return radclient({
    port: relays[mode].port,
    secret: STACK_RADIUS_SECRET,
    attributes: [`User-Name = "${user}"`, `User-Password = "${password}"`, ...(state ? [`State = ${state}`] : [])],
    timeoutS: 20,
    retries: 1,
  });
}

const attr = (r: RadclientReply, name: string) => r.attributes.find((a) => a.name === name)?.value;
const duoCalls = (user: string) =>
  stack.emulator.state.requests.filter((q) => q.params.username?.[0] === user).map((q) => q.endpoint);
/** Access-Requests the upstream has received so far (its debug log has a line for each). */
const upstreamRequests = () => upstream.logs().match(/Received Access-Request/g)?.length ?? 0;

function challengeOf(r: RadclientReply): string {
  expect(r.code).toBe('Access-Challenge');
  const state = attr(r, 'State');
  if (!state) throw new Error('challenge without State');
  return state;
}

describe('an upstream Access-Challenge through the relay (auto mode)', () => {
  it('the token question reaches the NAS under the relay’s State; the right code, then the push → Accept', async () => {
    stack.emulator.state.clearRequests();
    const first = await login('alice', 'alice-token-pass');
    const state = challengeOf(first);
    expect(attr(first, 'Reply-Message')).toBe('Enter next token code');
    expect(attr(first, 'Prompt')).toBe('Echo');
    // 32 random bytes of the relay's, not the upstream's State.
    expect(state).toMatch(/^0x[0-9a-f]{64}$/);
    expect(state).not.toBe(TOKEN_STATE);
    expect(duoCalls('alice')).toEqual([]);

    const done = await login('alice', '123456', state);
    expect(done.code).toBe('Access-Accept');
    expect(attr(done, 'Filter-Id')).toBe('vpn-token');
    expect(duoCalls('alice')).toEqual(['preauth', 'auth']);
  });

  it('two rounds (new PIN, then the next code) before Duo', async () => {
    stack.emulator.state.clearRequests();
    const first = await login('alice', 'alice-pin-pass');
    expect(attr(first, 'Reply-Message')).toBe('Enter a new PIN');
    const second = await login('alice', '4321', challengeOf(first));
    expect(attr(second, 'Reply-Message')).toBe('PIN accepted. Enter next token code');
    expect(duoCalls('alice')).toEqual([]);
    const done = await login('alice', '654321', challengeOf(second));
    expect(done.code).toBe('Access-Accept');
    expect(duoCalls('alice')).toEqual(['preauth', 'auth']);
  });

  it('a wrong code: Reject, and neither Duo nor the edge’s audit log ever hears of the login', async () => {
    stack.emulator.state.clearRequests();
    const since = Date.now();
    const first = await login('bob', 'bob-token-pass');
    const wrong = await login('bob', '000000', challengeOf(first));
    expect(wrong.code).toBe('Access-Reject');
    expect(attr(wrong, 'Reply-Message')).toBe('Primary credentials rejected');
    expect(duoCalls('bob')).toEqual([]);
    expect(await stack.decisions({ user: 'bob', from: since })).toEqual([]);
  });

  it('forged, foreign and upstream States continue nothing, and the upstream never sees them', async () => {
    stack.emulator.state.clearRequests();
    const state = challengeOf(await login('alice', 'alice-token-pass'));
    const before = upstreamRequests();
    expect(before).toBeGreaterThan(0);
    for (const [user, forged] of [
      ['alice', `0x${randomBytes(32).toString('hex')}`],
      ['alice', TOKEN_STATE],
      ['bob', state],
      // Spent by bob's attempt: single use.
      ['alice', state],
    ] as const) {
      const r = await login(user, '123456', forged);
      expect(r.code, `${user} with ${forged}`).toBe('Access-Reject');
      expect(attr(r, 'Reply-Message')).toBe(REPLY.unknownChallenge);
    }
    expect(upstreamRequests()).toBe(before);
    expect(duoCalls('alice')).toEqual([]);
  });
});

describe('challenge mode', () => {
  it('the upstream’s question first, then Duo’s menu; option 1 pushes', async () => {
    stack.emulator.state.clearRequests();
    const first = await login('alice', 'alice-token-pass', undefined, 'challenge');
    expect(attr(first, 'Reply-Message')).toBe('Enter next token code');
    const menu = await login('alice', '123456', challengeOf(first), 'challenge');
    expect(attr(menu, 'Reply-Message')).toMatch(/Passcode or option \(1-3\): $/);
    const done = await login('alice', '1', challengeOf(menu), 'challenge');
    expect(done.code).toBe('Access-Accept');
    expect(attr(done, 'Filter-Id')).toBe('vpn-token');
    expect(duoCalls('alice')).toEqual(['preauth', 'auth']);
  });
});

describe('concat mode, whose NAS cannot answer a challenge', () => {
  it('fails closed: Reject naming why, a warning in the relay log, Duo never asked', async () => {
    stack.emulator.state.clearRequests();
    const r = await login('alice', 'alice-token-pass,push', undefined, 'concat');
    expect(r.code).toBe('Access-Reject');
    expect(attr(r, 'Reply-Message')).toBe(
      'Error performing primary authentication: Access-Challenge cannot be relayed in mode concat',
    );
    expect(relays.concat.process!.output()).toContain('which mode concat cannot relay');
    expect(duoCalls('alice')).toEqual([]);
  });
});
