import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRadiusUpstreamPrimary,
  TIMEOUT_DETAIL,
  type UpstreamReject,
} from '../../local-relay/src/primary/radius-upstream.ts';
import { decodeText, MICROSOFT_VENDOR_ID, MsAttr, vendorAttributes } from '../../local-relay/src/radius/index.ts';
import { type FreeRadiusHandle, startFreeRadius } from '../support/freeradius.ts';
import {
  captureLogger,
  closedUdpPort,
  msChapV2NasRequest,
  nasRequest,
  silentUdp,
  upstreamConfig,
} from '../support/radius-upstream-fixtures.ts';

/** Upstream failures against a real FreeRADIUS: failover, all hosts down, MS-CHAPv2 wrong password. */

const SECRET = 'upstream-secret-0a1b2c3d4e5f6789';
let radius: FreeRadiusHandle;
const { logger } = captureLogger();

beforeAll(async () => {
  radius = await startFreeRadius({
    clients: [{ ip: '127.0.0.1', secret: SECRET }],
    mschap: true,
    users: [{ name: 'bob', password: 'bob-upstream-pass', replyAttrs: { 'Filter-Id': '"staff"' } }],
  });
});

afterAll(async () => {
  await radius?.stop();
});

function primaryFor(hosts: string[], extra: { retries?: number; retry_wait_ms?: number } = {}) {
  return createRadiusUpstreamPrimary(
    upstreamConfig({ hosts, secret: SECRET, retry_wait_ms: 150, pass_through_attr_names: ['Filter-Id'], ...extra }),
    { logger },
  );
}

describe('failover', () => {
  it('moves to the second host when the first never answers', async () => {
    const hung = await silentUdp();
    const primary = primaryFor([`127.0.0.1:${hung.port}`, `127.0.0.1:${radius.port}`]);
    try {
      const outcome = await primary.authenticate({
        username: 'bob',
        password: 'bob-upstream-pass',
        clientIp: '127.0.0.1',
      });
      expect(outcome.kind).toBe('accept');
      expect(hung.received()).toBe(1);
    } finally {
      await primary.close?.();
      await hung.close();
    }
  });

  it('moves to the second host when the first port is closed', async () => {
    const closed = await closedUdpPort();
    const primary = primaryFor([`127.0.0.1:${closed}`, `127.0.0.1:${radius.port}`]);
    try {
      const { raw } = nasRequest({ username: 'bob', password: 'bob-upstream-pass' });
      const outcome = await primary.authenticate({
        username: 'bob',
        password: 'bob-upstream-pass',
        clientIp: '127.0.0.1',
        raw,
      });
      expect(outcome).toMatchObject({ kind: 'accept' });
    } finally {
      await primary.close?.();
    }
  });

  it("errors with Duo's message after retries+1 transmissions cycling over the hosts", async () => {
    const a = await silentUdp();
    const b = await silentUdp();
    const primary = primaryFor([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], { retries: 2, retry_wait_ms: 100 });
    try {
      const outcome = await primary.authenticate({
        username: 'bob',
        password: 'bob-upstream-pass',
        clientIp: '127.0.0.1',
      });
      expect(outcome).toEqual({ kind: 'error', detail: TIMEOUT_DETAIL });
      // a, b, a: three transmissions in failover order.
      expect([a.received(), b.received()]).toEqual([2, 1]);
      const check = await primary.check!();
      expect(check.ok).toBe(false);
      expect(check.detail).toContain('no authentic answer');
    } finally {
      await primary.close?.();
      await a.close();
      await b.close();
    }
  });
});

describe('MS-CHAPv2 wrong password', () => {
  it('rejects and hands back the upstream MS-CHAP-Error for the NAS', async () => {
    const primary = primaryFor([`127.0.0.1:${radius.port}`]);
    try {
      // The NAS's client computed its response with another password than the upstream's.
      const ms = msChapV2NasRequest('bob', 'not-bobs-password');
      const outcome = (await primary.authenticate({
        username: 'bob',
        clientIp: '127.0.0.1',
        raw: ms.raw,
      })) as UpstreamReject;
      expect(outcome.kind).toBe('reject');
      const microsoft = vendorAttributes(outcome.attributes ?? [], MICROSOFT_VENDOR_ID);
      const error = microsoft.find((v) => v.vendorType === MsAttr.MsChapError);
      expect(error).toBeDefined();
      // Ident byte, then `E=691 R=... V=3` (RFC 2759 §6: authentication failure).
      expect(error!.value[0]).toBe(ms.ident);
      expect(decodeText(error!.value.subarray(1))).toMatch(/^E=691 R=\d/);
      expect(microsoft.some((v) => v.vendorType === MsAttr.MsChap2Success)).toBe(false);
      expect(microsoft.some((v) => v.vendorType === MsAttr.MsMppeSendKey)).toBe(false);
    } finally {
      await primary.close?.();
    }
  });

  it('rejects a request with neither a password nor MS-CHAPv2 attributes without asking upstream', async () => {
    const primary = primaryFor([`127.0.0.1:${radius.port}`]);
    try {
      const { raw } = nasRequest({ username: 'bob' });
      const outcome = await primary.authenticate({ username: 'bob', clientIp: '127.0.0.1', raw });
      expect(outcome).toEqual({ kind: 'reject', reason: 'no password or MS-CHAPv2 attributes provided' });
    } finally {
      await primary.close?.();
    }
  });
});
