import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRadiusUpstreamPrimary, TIMEOUT_DETAIL } from '../../local-relay/src/primary/radius-upstream.ts';
import { type FreeRadiusHandle, startFreeRadius } from '../support/freeradius.ts';
import {
  captureLogger,
  corruptMessageAuthenticator,
  stripMessageAuthenticator,
  tamperingProxy,
  upstreamConfig,
} from '../support/radius-upstream-fixtures.ts';

/**
 * BlastRADIUS on the upstream hop: FreeRADIUS signs every reply, and a middlebox that breaks or
 * strips the Message-Authenticator (while fixing the Response Authenticator, as an attacker who
 * knows it would) must get the reply ignored as if it never arrived.
 */

const SECRET = 'upstream-secret-fedcba9876543210';
let radius: FreeRadiusHandle;
const { logger, lines } = captureLogger();

beforeAll(async () => {
  radius = await startFreeRadius({
    clients: [{ ip: '127.0.0.1', secret: SECRET }],
    users: [{ name: 'carol', password: 'carol-upstream-pass' }],
  });
});

afterAll(async () => {
  await radius?.stop();
});

async function viaProxy(mutate: (b: Uint8Array) => Uint8Array, requireMessageAuthenticator = true) {
  const proxy = await tamperingProxy({ upstreamPort: radius.port, secret: SECRET, mutate });
  const primary = createRadiusUpstreamPrimary(
    upstreamConfig({
      hosts: [`127.0.0.1:${proxy.port}`],
      secret: SECRET,
      retries: 1,
      retry_wait_ms: 150,
      require_message_authenticator: requireMessageAuthenticator,
    }),
    { logger },
  );
  try {
    return await primary.authenticate({ username: 'carol', password: 'carol-upstream-pass', clientIp: '127.0.0.1' });
  } finally {
    await primary.close?.();
    await proxy.close();
  }
}

describe('Message-Authenticator on upstream replies', () => {
  it('the untouched path through the proxy accepts (control)', async () => {
    expect((await viaProxy((b) => b)).kind).toBe('accept');
  });

  it('ignores a reply with a wrong Message-Authenticator: timeout, never accept', async () => {
    expect(await viaProxy(corruptMessageAuthenticator)).toEqual({ kind: 'error', detail: TIMEOUT_DETAIL });
    expect(lines.join('\n')).toContain('bad_message_authenticator');
  });

  it('ignores a wrong Message-Authenticator even when not required', async () => {
    expect(await viaProxy(corruptMessageAuthenticator, false)).toEqual({ kind: 'error', detail: TIMEOUT_DETAIL });
  });

  it('ignores a reply without Message-Authenticator when required (default)', async () => {
    expect(await viaProxy(stripMessageAuthenticator)).toEqual({ kind: 'error', detail: TIMEOUT_DETAIL });
    expect(lines.join('\n')).toContain('missing_message_authenticator');
  });

  it('accepts an unsigned reply only with require_message_authenticator = false', async () => {
    expect((await viaProxy(stripMessageAuthenticator, false)).kind).toBe('accept');
  });

  it('gets no answer with a wrong secret: FreeRADIUS drops the request on its Message-Authenticator', async () => {
    const primary = createRadiusUpstreamPrimary(
      upstreamConfig({
        hosts: [`127.0.0.1:${radius.port}`],
        secret: 'not-the-upstream-secret-at-all',
        retries: 1,
        retry_wait_ms: 150,
      }),
      { logger },
    );
    try {
      const outcome = await primary.authenticate({
        username: 'carol',
        password: 'carol-upstream-pass',
        clientIp: '127.0.0.1',
      });
      expect(outcome).toEqual({ kind: 'error', detail: TIMEOUT_DETAIL });
    } finally {
      await primary.close?.();
    }
  });
});
