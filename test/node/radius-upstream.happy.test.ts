import { afterEach, describe, expect, it } from 'vitest';
import { selectPassThrough } from '../../local-relay/src/primary/radius-pass-through.ts';
import {
  createRadiusUpstreamPrimary,
  type RadiusUpstreamPrimary,
} from '../../local-relay/src/primary/radius-upstream.ts';
import { radiusEndpoints } from '../../local-relay/src/primary/radius-upstream-config.ts';
import type { PrimaryOutcome } from '../../local-relay/src/primary/types.ts';
import {
  Attr,
  Code,
  checkMessageAuthenticator,
  decodeIpv4,
  decodeText,
  decryptMppeKey,
  encryptMppeKey,
  getAttribute,
  getAttributes,
  getVendorAttribute,
  ipv4Attribute,
  MICROSOFT_VENDOR_ID,
  MsAttr,
  type RadiusAttribute,
  textAttribute,
  unhidePassword,
  vendorSpecific,
} from '../../local-relay/src/radius/index.ts';
import { integerAttribute } from '../support/radius-integer.ts';
import {
  captureLogger,
  enc,
  fakeUpstream,
  msChapV2NasRequest,
  NAS_SECRET,
  nasRequest,
  upstreamConfig,
} from '../support/radius-upstream-fixtures.ts';

/** The upstream primary against an in-process fake upstream: what goes on the wire, what comes back. */

const SECRET = 'fake-upstream-secret-0123456789';
const { logger } = captureLogger();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  answer: Parameters<typeof fakeUpstream>[1],
  config: Partial<Parameters<typeof upstreamConfig>[0]> = {},
): Promise<{ primary: RadiusUpstreamPrimary; upstream: Awaited<ReturnType<typeof fakeUpstream>> }> {
  const upstream = await fakeUpstream(SECRET, answer);
  const primary = createRadiusUpstreamPrimary(
    upstreamConfig({ hosts: [`127.0.0.1:${upstream.port}`], secret: SECRET, retry_wait_ms: 200, ...config }),
    { logger },
  );
  cleanups.push(upstream.close, () => primary.close!());
  return { primary, upstream };
}

const vsa = (vendorId: number, type: number, value: Uint8Array): RadiusAttribute => {
  const r = vendorSpecific(vendorId, type, value);
  if (!r.ok) throw new Error('vsa');
  return r.value;
};

function accepted(outcome: PrimaryOutcome) {
  if (outcome.kind !== 'accept') throw new Error(`expected accept, got ${JSON.stringify(outcome)}`);
  return outcome.attributes ?? [];
}

describe('the forwarded PAP Access-Request', () => {
  it('is a new request: fresh authenticator, password re-hidden, Message-Authenticator first and valid', async () => {
    const { primary, upstream } = await setup(() => ({ code: Code.AccessAccept }));
    const { raw, packet: nas } = nasRequest({
      username: 'dan',
      password: 'dan-pass',
      attributes: [
        ipv4Attribute(Attr.NasIpAddress, '192.0.2.10')!,
        textAttribute(Attr.CallingStationId, '198.51.100.7'),
        integerAttribute(Attr.NasPortType, 5),
        textAttribute(Attr.State, 'nas-state'),
        textAttribute(Attr.ProxyState, 'proxy-state'),
        textAttribute(Attr.Class, 'nas-class'),
      ],
    });
    expect(
      (await primary.authenticate({ username: 'dan', password: 'dan-pass', clientIp: '198.51.100.7', raw })).kind,
    ).toBe('accept');
    const [sent] = upstream.received;
    expect(sent!.code).toBe(Code.AccessRequest);
    expect(sent!.attributes[0]!.type).toBe(Attr.MessageAuthenticator);
    expect(checkMessageAuthenticator(sent!, enc(SECRET))).toBe('valid');
    expect(Buffer.from(sent!.authenticator).equals(Buffer.from(nas.authenticator))).toBe(false);
    const hidden = getAttribute(sent!, Attr.UserPassword)!;
    const plain = unhidePassword(hidden, enc(SECRET), sent!.authenticator);
    expect(plain.ok && decodeText(plain.value)).toBe('dan-pass');
    expect(Buffer.from(hidden).equals(Buffer.from(getAttribute(nas, Attr.UserPassword)!))).toBe(false);
    expect(decodeText(getAttribute(sent!, Attr.UserName)!)).toBe('dan');
    expect(decodeIpv4(getAttribute(sent!, Attr.NasIpAddress)!)).toBe('192.0.2.10');
    expect(decodeText(getAttribute(sent!, Attr.CallingStationId)!)).toBe('198.51.100.7');
    expect(getAttribute(sent!, Attr.NasPortType)).toBeDefined();
    for (const t of [Attr.State, Attr.ProxyState, Attr.Class]) expect(getAttribute(sent!, t)).toBeUndefined();
  });

  it('uses nas_ip and nas_identifier instead of the NAS values', async () => {
    const { primary, upstream } = await setup(() => ({ code: Code.AccessAccept }), {
      nas_ip: '10.9.8.7',
      nas_identifier: 'relay-1',
    });
    const { raw } = nasRequest({
      username: 'dan',
      password: 'p',
      attributes: [ipv4Attribute(Attr.NasIpAddress, '192.0.2.10')!, textAttribute(Attr.NasIdentifier, 'vpn')],
    });
    await primary.authenticate({ username: 'dan', password: 'p', clientIp: '127.0.0.1', raw });
    const [sent] = upstream.received;
    expect(getAttributes(sent!, Attr.NasIpAddress).map(decodeIpv4)).toEqual(['10.9.8.7']);
    expect(getAttributes(sent!, Attr.NasIdentifier).map(decodeText)).toEqual(['relay-1']);
  });

  it('sends NAS-IPv6-Address for an IPv6 nas_ip', async () => {
    const { primary, upstream } = await setup(() => ({ code: Code.AccessAccept }), { nas_ip: '2001:db8::1:2' });
    await primary.authenticate({ username: 'dan', password: 'p', clientIp: '127.0.0.1' });
    expect(Buffer.from(getAttribute(upstream.received[0]!, 95)!).toString('hex')).toBe(
      '20010db8000000000000000000010002',
    );
  });

  it('names itself with a NAS-Identifier when nothing identifies a NAS (RFC 2865 §4.1)', async () => {
    const { primary, upstream } = await setup(() => ({ code: Code.AccessAccept }));
    await primary.authenticate({ username: 'dan', password: 'p', clientIp: '127.0.0.1' });
    expect(decodeText(getAttribute(upstream.received[0]!, Attr.NasIdentifier)!)).toBe('duo-relay');
  });
});

describe('MS-CHAPv2', () => {
  it('proxies the MS-CHAP attributes byte for byte and re-encrypts the MPPE keys for the NAS', async () => {
    const sendKey = new Uint8Array(16).fill(0x11);
    const recvKey = new Uint8Array(16).fill(0x22);
    const { primary, upstream } = await setup((req) => {
      const seal = (k: Uint8Array) => {
        const r = encryptMppeKey(k, enc(SECRET), req.authenticator);
        if (!r.ok) throw new Error('seal');
        return r.value;
      };
      return {
        code: Code.AccessAccept,
        attributes: [
          vsa(MICROSOFT_VENDOR_ID, MsAttr.MsChap2Success, enc('\x07S=00')),
          vsa(MICROSOFT_VENDOR_ID, MsAttr.MsMppeSendKey, seal(sendKey)),
          vsa(MICROSOFT_VENDOR_ID, MsAttr.MsMppeRecvKey, seal(recvKey)),
          vsa(MICROSOFT_VENDOR_ID, 7, new Uint8Array([0, 0, 0, 1])),
        ],
      };
    });
    const ms = msChapV2NasRequest('erin', 'erin-pass');
    const attributes = accepted(await primary.authenticate({ username: 'erin', clientIp: '127.0.0.1', raw: ms.raw }));

    const sent = upstream.received[0]!;
    expect(getAttribute(sent, Attr.UserPassword)).toBeUndefined();
    const nasVsas = getAttributes(ms.packet, Attr.VendorSpecific).map((v) => Buffer.from(v).toString('hex'));
    expect(getAttributes(sent, Attr.VendorSpecific).map((v) => Buffer.from(v).toString('hex'))).toEqual(nasVsas);

    const open = (type: number) => {
      const r = decryptMppeKey(
        getVendorAttribute(attributes, MICROSOFT_VENDOR_ID, type)!,
        enc(NAS_SECRET),
        ms.packet.authenticator,
      );
      return r.ok ? Buffer.from(r.value).toString('hex') : r.error.reason;
    };
    expect(open(MsAttr.MsMppeSendKey)).toBe(Buffer.from(sendKey).toString('hex'));
    expect(open(MsAttr.MsMppeRecvKey)).toBe(Buffer.from(recvKey).toString('hex'));
    expect(decodeText(getVendorAttribute(attributes, MICROSOFT_VENDOR_ID, MsAttr.MsChap2Success)!)).toBe('\x07S=00');
    expect(getVendorAttribute(attributes, MICROSOFT_VENDOR_ID, 7)).toEqual(new Uint8Array([0, 0, 0, 1]));
  });
});

describe('pass-through selection', () => {
  const cisco = vsa(9, 1, enc('shell:priv-lvl=15'));
  const packed = (() => {
    // One VSA with two Cisco sub-attributes (types 1 and 2).
    const v = new Uint8Array([0, 0, 0, 9, 1, 4, 0x61, 0x62, 2, 4, 0x63, 0x64]);
    return { type: Attr.VendorSpecific, value: v };
  })();
  const mppe = vsa(MICROSOFT_VENDOR_ID, MsAttr.MsMppeSendKey, new Uint8Array(34).fill(0x80));
  const reply: RadiusAttribute[] = [
    textAttribute(Attr.ReplyMessage, 'hi'),
    textAttribute(Attr.Class, 'c1'),
    textAttribute(Attr.FilterId, 'f'),
    textAttribute(Attr.Class, 'c2'),
    { type: Attr.MessageAuthenticator, value: new Uint8Array(16) },
    { type: 69, value: new Uint8Array(18) },
    cisco,
    packed,
    mppe,
  ];
  const select = (names: string[], all = false) =>
    selectPassThrough(reply, {
      selectors: upstreamConfig({ hosts: ['h'], secret: 's', pass_through_attr_names: names }).pass_through_attr_names,
      all,
    });

  it('selects named attributes, keeping same-type order', () => {
    expect(select(['class', 'Filter-Id'])).toEqual([reply[1], reply[2], reply[3]]);
  });

  it('selects a vendor by name, by id, or one vendor type, splitting packed VSAs', () => {
    expect(select(['Cisco-AVPair'])).toEqual([cisco, vsa(9, 1, enc('ab'))]);
    expect(select(['26:9'])).toEqual([cisco, packed]);
    expect(select(['26:9:2'])).toEqual([vsa(9, 2, enc('cd'))]);
  });

  it('never passes MPPE keys, Tunnel-Password or Message-Authenticator, and `all` skips Reply-Message', () => {
    expect(select([], true)).toEqual([reply[1], reply[2], reply[3], cisco, packed]);
    expect(select(['Vendor-Specific'])).toEqual([cisco, packed]);
    expect(select(['Reply-Message'])).toEqual([reply[0]]);
  });

  it('passes nothing by default', () => {
    expect(select([])).toEqual([]);
  });
});

describe('config', () => {
  it("defaults to Duo's retry policy with Message-Authenticator required", () => {
    const c = upstreamConfig({ hosts: ['radius.example.com', '10.0.0.2:1645', '[2001:db8::5]:1812'], secret: 's' });
    expect(c).toMatchObject({
      retries: 3,
      retry_wait_ms: 2000,
      require_message_authenticator: true,
      pass_through_all: false,
    });
    expect(radiusEndpoints(c)).toEqual([
      { host: 'radius.example.com', port: 1812 },
      { host: '10.0.0.2', port: 1645 },
      { host: '2001:db8::5', port: 1812 },
    ]);
  });

  it.each([
    [{ hosts: [], secret: 's' }],
    [{ hosts: ['h:0'], secret: 's' }],
    [{ hosts: ['h'], secret: '' }],
    [{ hosts: ['h'], secret: 's', pass_through_attr_names: ['No-Such-Attribute'] }],
    [{ hosts: ['h'], secret: 's', pass_through_attr_names: ['MS-MPPE-Send-Key'] }],
    [{ hosts: ['h'], secret: 's', pass_through_attr_names: ['26:311'] }],
    [{ hosts: ['h'], secret: 's', pass_through_attr_names: ['Tunnel-Password'] }],
    [{ hosts: ['h'], secret: 's', nas_ip: 'not-an-ip' }],
    [{ hosts: ['h'], secret: 's', retry_wait: 2 }],
  ])('rejects %j', (input) => {
    expect(() => upstreamConfig(input as never)).toThrow();
  });
});

describe('many logins at once', () => {
  it('keeps more than 256 requests in flight without mixing up replies', async () => {
    const { primary } = await setup(
      (req) => ({
        code: Code.AccessAccept,
        attributes: [{ type: Attr.Class, value: getAttribute(req, Attr.UserName)! }],
      }),
      { pass_through_attr_names: ['Class'] },
    );
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        primary.authenticate({ username: `u${i}`, password: 'p', clientIp: '127.0.0.1' }),
      ),
    );
    outcomes.forEach((o, i) => {
      expect(accepted(o).map((a) => decodeText(a.value))).toEqual([`u${i}`]);
    });
  });
});

describe('check', () => {
  it('sends a signed Status-Server and reports the host reachable', async () => {
    const { primary, upstream } = await setup(() => ({ code: Code.AccessAccept }));
    const [host] = await primary.checkHosts();
    expect(host).toMatchObject({ ok: true, detail: 'answered Status-Server' });
    expect(upstream.received[0]!.code).toBe(Code.StatusServer);
    expect(checkMessageAuthenticator(upstream.received[0]!, enc(SECRET))).toBe('valid');
  });

  it('counts an unsigned Status-Server reply as reachable (RFC 5997 allows it) and says so', async () => {
    const { primary } = await setup(() => ({ code: Code.AccessAccept, ma: 'none' }));
    expect((await primary.checkHosts())[0]).toMatchObject({
      ok: true,
      detail: expect.stringContaining('without Message-Authenticator'),
    });
  });
});
