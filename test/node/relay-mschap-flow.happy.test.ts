import { REPLY } from '@duo-edge/contract/messages';
import type { Device, PreauthResponse } from '@duo-edge/contract/wire';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { EdgeApi } from '../../local-relay/src/edge/client.ts';
import { ChallengeStore, createFlow, type FlowOptions } from '../../local-relay/src/flow/index.ts';
import type { LoginRequest } from '../../local-relay/src/flow/types.ts';
import type { PrimaryAuthenticator, PrimaryOutcome, PrimaryRequest } from '../../local-relay/src/primary/types.ts';
import {
  Attr,
  Code,
  decodePacket,
  getAttributes,
  MICROSOFT_VENDOR_ID,
  MsAttr,
  parseVendorSpecific,
  textAttribute,
  vendorSpecific,
} from '../../local-relay/src/radius/index.ts';
import { toLoginRequest } from '../../local-relay/src/server/login-request.ts';
import { encodeOutcome } from '../../local-relay/src/server/outcome-reply.ts';
import { flowModes, recordingEdge, wireFlow } from '../support/flow-fixtures.ts';
import { msChapV2NasRequest, NAS_SECRET, nasRequest } from '../support/radius-upstream-fixtures.ts';

/**
 * MS-CHAPv2 through the login flows, the reject attributes on the wire, and the site policy's
 * exempt users and factors.
 */

const PUSH: Device = { device: 'DPHONE1', type: 'phone', capabilities: ['auto', 'push', 'phone'] };
const TOKEN: Device = { device: 'DTOKEN1', type: 'token', capabilities: [] };

const vsa = (type: number, value: number[]) => {
  const r = vendorSpecific(MICROSOFT_VENDOR_ID, type, new Uint8Array(value));
  if (!r.ok) throw new Error('vsa');
  return r.value;
};
const SUCCESS = vsa(MsAttr.MsChap2Success, [7, 0x53, 0x3d]);
const SEND_KEY = vsa(MsAttr.MsMppeSendKey, Array(34).fill(1));
const CLASS = textAttribute(Attr.Class, 'class-a');
const MS_ERROR = vsa(MsAttr.MsChapError, [7, ...new TextEncoder().encode('E=691 R=0 V=3')]);

function fakeRadiusPrimary(answer: PrimaryOutcome, kind: PrimaryAuthenticator['kind'] = 'radius') {
  const calls: PrimaryRequest[] = [];
  const primary: PrimaryAuthenticator = {
    kind,
    async authenticate(req) {
      calls.push(req);
      return answer;
    },
  };
  return { primary, calls };
}

function setup(
  opts: FlowOptions,
  primary: PrimaryAuthenticator,
  devices: Device[] = [PUSH],
  policy: { exempt?: string[]; factors?: Array<'auto' | 'push' | 'phone' | 'passcode'> } = {},
) {
  const preauth: PreauthResponse = { result: 'auth', message: 'ok', source: 'duo', devices, factors: {} };
  const { edge, calls } = recordingEdge(() => ({ kind: 'ok', value: preauth }));
  const { flow, decisions } = wireFlow(opts, {
    primary,
    edge,
    policy: {
      failmode: () => 'safe',
      exemptUsernames: () => policy.exempt ?? [],
      factors: () => policy.factors,
    },
  });
  return { flow, calls, decisions };
}

const { auto: AUTO, challenge: CHALLENGE, concat: CONCAT } = flowModes();

/** What the server hands the flow for an MS-CHAPv2 Access-Request. */
function msChapRequest(username = 'victor'): LoginRequest {
  const { packet } = msChapV2NasRequest(username, 'victor-pass');
  return toLoginRequest(packet, { name: 'nas', secret: new TextEncoder().encode(NAS_SECRET) }, '127.0.0.1');
}

describe('MS-CHAPv2 requests through the flows', () => {
  it('the server marks a request with MS-CHAP-Challenge + MS-CHAP2-Response and no User-Password', () => {
    expect(msChapRequest()).toMatchObject({ username: 'victor', passwordError: 'missing', msChapV2: true });
    const pap = nasRequest({ username: 'alice', password: 'alice-pass' }).packet;
    expect(
      toLoginRequest(pap, { name: 'nas', secret: new TextEncoder().encode(NAS_SECRET) }, '127.0.0.1').msChapV2,
    ).toBeUndefined();
  });

  it('auto: reaches the radius primary with no password, pushes, and keeps MS-CHAP2-Success and MPPE keys', async () => {
    const { primary, calls: primaryCalls } = fakeRadiusPrimary({
      kind: 'accept',
      attributes: [SUCCESS, SEND_KEY, CLASS],
    });
    const { flow, calls } = setup(AUTO, primary);
    const out = await flow.handle(msChapRequest());
    expect(out).toEqual({
      code: 'accept',
      replyMessage: 'Success. Logging you in...',
      attributes: [SUCCESS, SEND_KEY, CLASS],
    });
    expect(primaryCalls).toHaveLength(1);
    expect(primaryCalls[0]).not.toHaveProperty('password');
    expect(primaryCalls[0]!.raw).toBeDefined();
    expect(calls.auth.map((r) => r.factor)).toEqual(['auto']);
  });

  it('auto: a user who could only answer a passcode is rejected instead of challenged', async () => {
    const { primary } = fakeRadiusPrimary({ kind: 'accept', attributes: [SUCCESS, SEND_KEY] });
    const { flow, calls, decisions } = setup(AUTO, primary, [TOKEN]);
    expect(await flow.handle(msChapRequest())).toEqual({ code: 'reject', replyMessage: REPLY.noFactors });
    expect(calls.auth).toEqual([]);
    expect(decisions.at(-1)).toMatchObject({ stage: 'preauth', result: 'deny', source: 'relay' });
  });

  it('the upstream reject reaches the NAS with its MS-CHAP-Error', async () => {
    const { primary } = fakeRadiusPrimary({ kind: 'reject', reason: 'upstream rejected', attributes: [MS_ERROR] });
    const { flow } = setup(AUTO, primary);
    expect(await flow.handle(msChapRequest())).toEqual({
      code: 'reject',
      replyMessage: 'Primary credentials rejected',
      attributes: [MS_ERROR],
    });
  });

  it('users_file / ldap primaries cannot check MS-CHAPv2: Missing or improperly-formatted password', async () => {
    for (const kind of ['users_file', 'ldap'] as const) {
      const { primary, calls } = fakeRadiusPrimary({ kind: 'accept' }, kind);
      const { flow } = setup(AUTO, primary);
      expect(await flow.handle(msChapRequest())).toEqual({
        code: 'reject',
        replyMessage: 'Missing or improperly-formatted password',
      });
      expect(calls).toEqual([]);
    }
  });

  it('concat has no password to split: refused before the primary', async () => {
    const { primary, calls } = fakeRadiusPrimary({ kind: 'accept' });
    const { flow } = setup(CONCAT, primary);
    expect((await flow.handle(msChapRequest())).code).toBe('reject');
    expect(calls).toEqual([]);
  });

  it('challenge: the hop-bound Microsoft attributes do not wait for the answer; the others do', async () => {
    const { primary } = fakeRadiusPrimary({ kind: 'accept', attributes: [SUCCESS, SEND_KEY, CLASS] });
    const { flow } = setup(CHALLENGE, primary);
    const req = msChapRequest();
    const first = await flow.handle(req);
    expect(first.code).toBe('challenge');
    if (first.code !== 'challenge') return;
    const second = await flow.handle({ ...req, msChapV2: false, password: '1', state: first.state });
    expect(second).toMatchObject({ code: 'accept', attributes: [CLASS] });
  });
});

describe('reject attributes on the wire', () => {
  it('an Access-Reject carries the MS-CHAP-Error after Reply-Message, Message-Authenticator first', () => {
    const { packet } = nasRequest({ username: 'victor', password: 'x' });
    const bytes = encodeOutcome(
      { code: 'reject', replyMessage: 'Primary credentials rejected', attributes: [MS_ERROR] },
      packet,
      new TextEncoder().encode(NAS_SECRET),
    );
    expect(bytes.ok).toBe(true);
    if (!bytes.ok) return;
    const reply = decodePacket(bytes.value);
    expect(reply.ok && reply.value.code).toBe(Code.AccessReject);
    if (!reply.ok) return;
    expect(reply.value.attributes[0]!.type).toBe(Attr.MessageAuthenticator);
    const vsas = getAttributes(reply.value, Attr.VendorSpecific).flatMap((v) => parseVendorSpecific(v) ?? []);
    expect(vsas).toEqual([
      { vendorId: MICROSOFT_VENDOR_ID, vendorType: MsAttr.MsChapError, value: MS_ERROR.value.slice(6) },
    ]);
  });
});

describe('site policy in the flows', () => {
  const users: PrimaryAuthenticator = {
    kind: 'users_file',
    async authenticate(req) {
      return req.password === `${req.username}-pass` ? { kind: 'accept' } : { kind: 'reject', reason: 'wrong' };
    },
  };
  const pap = (username: string): LoginRequest => ({
    username,
    password: `${username}-pass`,
    nasIp: '192.0.2.1',
    loginId: `login-${username}`,
  });

  it("exempt users: the section's list and the site policy's both exempt (union), after the primary", async () => {
    const { flow, calls } = setup({ ...AUTO, exemptUsernames: ['svc-a'] }, users, [PUSH], { exempt: ['svc-b'] });
    expect(await flow.handle(pap('svc-a'))).toEqual({ code: 'accept', replyMessage: REPLY.exempt });
    expect(await flow.handle(pap('svc-b'))).toEqual({ code: 'accept', replyMessage: REPLY.exempt });
    expect(await flow.handle({ ...pap('svc-b'), password: 'wrong' })).toMatchObject({ code: 'reject' });
    expect(calls.preauth).toHaveLength(0);
  });

  it("factors: the section's when set, else the site policy's, else auto", async () => {
    const noFactors = { ...AUTO, factors: undefined } as FlowOptions;
    const fromPolicy = setup(noFactors, users, [PUSH], { factors: ['passcode'] });
    expect((await fromPolicy.flow.handle(pap('alice'))).code).toBe('challenge');
    const fromSection = setup({ ...AUTO, factors: ['push'] }, users, [PUSH], { factors: ['passcode'] });
    expect((await fromSection.flow.handle(pap('alice'))).code).toBe('accept');
    expect(fromSection.calls.auth.map((r) => r.factor)).toEqual(['push']);
    const neither = setup(noFactors, users, [PUSH]);
    expect((await neither.flow.handle(pap('alice'))).code).toBe('accept');
    expect(neither.calls.auth.map((r) => r.factor)).toEqual(['auto']);
  });
});

describe('decision hook', () => {
  it('a promise returned by the hook settles before the outcome is handed back', async () => {
    const order: string[] = [];
    const flow = createFlow(AUTO, {
      primary: fakeRadiusPrimary({ kind: 'reject', reason: 'wrong' }).primary,
      edge: {} as EdgeApi,
      policy: { failmode: () => 'safe' },
      challenges: new ChallengeStore(),
      logger: pino({ level: 'silent' }),
      onDecision: () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            order.push('journalled');
            resolve();
          }, 20),
        ),
    });
    await flow.handle({ username: 'u', password: 'p', nasIp: '192.0.2.1', loginId: 'l1' });
    order.push('replied');
    expect(order).toEqual(['journalled', 'replied']);
  });
});
