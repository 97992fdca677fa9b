import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRadiusUpstreamPrimary,
  type RadiusUpstreamPrimary,
} from '../../local-relay/src/primary/radius-upstream.ts';
import type { PrimaryOutcome } from '../../local-relay/src/primary/types.ts';
import {
  Attr,
  decodeIpv4,
  decodeText,
  decryptMppeKey,
  getVendorAttribute,
  MICROSOFT_VENDOR_ID,
  MsAttr,
  parseVendorSpecific,
  textAttribute,
  vendorAttributes,
} from '../../local-relay/src/radius/index.ts';
import { type FreeRadiusHandle, startFreeRadius } from '../support/freeradius.ts';
import { expectedMppeKeys, generateAuthenticatorResponse } from '../support/mschapv2.ts';
import { decodeInteger } from '../support/radius-integer.ts';
import {
  captureLogger,
  enc,
  msChapV2NasRequest,
  NAS_SECRET,
  nasRequest,
  upstreamConfig,
} from '../support/radius-upstream-fixtures.ts';

/** The upstream RADIUS primary against a real FreeRADIUS 3.2 (files + pap + mschap). */

const SECRET = 'upstream-secret-9f8e7d6c5b4a3210';
const CISCO = 9;

let radius: FreeRadiusHandle;
let primary: RadiusUpstreamPrimary;
const { logger, lines } = captureLogger();

beforeAll(async () => {
  radius = await startFreeRadius({
    clients: [{ ip: '127.0.0.1', secret: SECRET }],
    mschap: true,
    users: [
      {
        name: 'alice',
        password: 'alice-upstream-pass',
        replyAttrs: {
          Class: '0x636c6173732d61',
          'Filter-Id': '"vpn-users"',
          'Framed-IP-Address': '10.1.2.3',
          'Session-Timeout': '3600',
          'Reply-Message': '"hello from upstream"',
          'Cisco-AVPair': '"shell:priv-lvl=15"',
          'Idle-Timeout': '600',
        },
      },
      { name: 'victor', password: 'victor-mschap-pass' },
    ],
  });
  primary = createRadiusUpstreamPrimary(
    upstreamConfig({
      hosts: [`127.0.0.1:${radius.port}`],
      secret: SECRET,
      retry_wait_ms: 500,
      pass_through_attr_names: ['Class', 'Filter-Id', 'Framed-IP-Address', 'Session-Timeout', 'Cisco-AVPair'],
    }),
    { logger },
  );
});

afterAll(async () => {
  await primary?.close?.();
  await radius?.stop();
});

function accepted(outcome: PrimaryOutcome) {
  if (outcome.kind !== 'accept') throw new Error(`expected accept, got ${JSON.stringify(outcome)}`);
  return outcome.attributes ?? [];
}

describe('PAP through the upstream', () => {
  it('accepts the right password and passes the named attributes through, in order', async () => {
    const { raw } = nasRequest({
      username: 'alice',
      password: 'alice-upstream-pass',
      attributes: [textAttribute(Attr.CallingStationId, '203.0.113.9')],
    });
    const attributes = accepted(
      await primary.authenticate({ username: 'alice', password: 'alice-upstream-pass', clientIp: '203.0.113.9', raw }),
    );
    const byType = (t: number) => attributes.filter((a) => a.type === t).map((a) => a.value);
    expect(byType(Attr.Class).map(decodeText)).toEqual(['class-a']);
    expect(byType(Attr.FilterId).map(decodeText)).toEqual(['vpn-users']);
    expect(byType(Attr.FramedIpAddress).map(decodeIpv4)).toEqual(['10.1.2.3']);
    expect(byType(Attr.SessionTimeout).map(decodeInteger)).toEqual([3600]);
    expect(decodeText(getVendorAttribute(attributes, CISCO, 1)!)).toBe('shell:priv-lvl=15');
    // Not named: Idle-Timeout and Reply-Message stay behind; hop-bound attributes never pass.
    expect(byType(28)).toEqual([]);
    expect(byType(Attr.ReplyMessage)).toEqual([]);
    expect(byType(Attr.MessageAuthenticator)).toEqual([]);
  });

  it('pass_through_all copies everything but the hop-bound attributes and Reply-Message', async () => {
    const all = createRadiusUpstreamPrimary(
      upstreamConfig({ hosts: [`127.0.0.1:${radius.port}`], secret: SECRET, pass_through_all: true }),
      { logger },
    );
    try {
      const { raw } = nasRequest({ username: 'alice', password: 'alice-upstream-pass' });
      const attributes = accepted(
        await all.authenticate({ username: 'alice', password: 'alice-upstream-pass', clientIp: '127.0.0.1', raw }),
      );
      const types = new Set(attributes.map((a) => a.type));
      expect([...types].sort((a, b) => a - b)).toEqual(
        [Attr.FramedIpAddress, Attr.FilterId, Attr.Class, Attr.VendorSpecific, Attr.SessionTimeout, 28].sort(
          (a, b) => a - b,
        ),
      );
    } finally {
      await all.close?.();
    }
  });

  it('forwards the password the flow gives (a concat split), not the raw User-Password', async () => {
    const { raw } = nasRequest({ username: 'alice', password: 'alice-upstream-pass,push' });
    const outcome = await primary.authenticate({
      username: 'alice',
      password: 'alice-upstream-pass',
      clientIp: '127.0.0.1',
      raw,
    });
    expect(outcome.kind).toBe('accept');
  });

  it('rejects a wrong password', async () => {
    const { raw } = nasRequest({ username: 'victor', password: 'wrong' });
    const outcome = await primary.authenticate({ username: 'victor', password: 'wrong', clientIp: '127.0.0.1', raw });
    expect(outcome).toEqual({ kind: 'reject', reason: 'upstream rejected' });
  });

  it("keeps the upstream's Reply-Message in the reject reason (for the log and audit)", async () => {
    const outcome = await primary.authenticate({ username: 'alice', password: 'wrong', clientIp: '127.0.0.1' });
    expect(outcome).toEqual({ kind: 'reject', reason: 'upstream rejected: hello from upstream' });
  });

  it('rejects an unknown user', async () => {
    const outcome = await primary.authenticate({ username: 'mallory', password: 'x', clientIp: '127.0.0.1' });
    expect(outcome.kind).toBe('reject');
  });

  it('never logs the password or a secret', () => {
    const all = lines.join('\n');
    expect(all).not.toContain('alice-upstream-pass');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(NAS_SECRET);
  });
});

describe('MS-CHAPv2 through the upstream', () => {
  it('accepts with MS-CHAP2-Success and both MPPE keys re-encrypted for the NAS', async () => {
    const ms = msChapV2NasRequest('victor', 'victor-mschap-pass');
    const attributes = accepted(await primary.authenticate({ username: 'victor', clientIp: '127.0.0.1', raw: ms.raw }));
    const microsoft = vendorAttributes(attributes, MICROSOFT_VENDOR_ID);

    const success = microsoft.find((v) => v.vendorType === MsAttr.MsChap2Success);
    expect(success).toBeDefined();
    // Ident of the MS-CHAP2-Response, then the server's proof of the password (RFC 2759 §8.7).
    expect(success!.value[0]).toBe(ms.ident);
    expect(decodeText(success!.value.subarray(1))).toBe(
      generateAuthenticatorResponse(
        'victor-mschap-pass',
        ms.ntResponse,
        ms.peerChallenge,
        ms.authenticatorChallenge,
        'victor',
      ),
    );

    const expected = expectedMppeKeys('victor-mschap-pass', ms.ntResponse);
    const nasHop = [enc(NAS_SECRET), ms.packet.authenticator] as const;
    const send = microsoft.find((v) => v.vendorType === MsAttr.MsMppeSendKey);
    const recv = microsoft.find((v) => v.vendorType === MsAttr.MsMppeRecvKey);
    expect(send && recv).toBeTruthy();
    const sendKey = decryptMppeKey(send!.value, ...nasHop);
    const recvKey = decryptMppeKey(recv!.value, ...nasHop);
    expect(sendKey.ok && Buffer.from(sendKey.value).toString('hex')).toBe(Buffer.from(expected.send).toString('hex'));
    expect(recvKey.ok && Buffer.from(recvKey.value).toString('hex')).toBe(Buffer.from(expected.recv).toString('hex'));
    // Every Microsoft VSA carries exactly one sub-attribute (RFC 2865 §5.26 recommended form).
    for (const a of attributes.filter((x) => x.type === Attr.VendorSpecific)) {
      expect(parseVendorSpecific(a.value)).toHaveLength(1);
    }
  });
});

describe('Status-Server check', () => {
  it('reports each reachable host', async () => {
    const hosts = await primary.checkHosts();
    expect(hosts).toEqual([expect.objectContaining({ host: '127.0.0.1', port: radius.port, ok: true })]);
    const summary = await primary.check!();
    expect(summary.ok).toBe(true);
    expect(summary.detail).toContain(`127.0.0.1:${radius.port}: ok`);
  });
});
