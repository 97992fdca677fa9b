import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPLY } from '@duo-edge/contract/messages';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RelayRuntime, startRelay } from '../../local-relay/src/cli/runtime.ts';
import { loadConfig } from '../../local-relay/src/config/load.ts';
import {
  Attr,
  Code,
  type DecodedPacket,
  decodePacket,
  decodeText,
  decryptMppeKey,
  getAttribute,
  MICROSOFT_VENDOR_ID,
  MsAttr,
  vendorAttributes,
  verifyResponseAuthenticator,
} from '../../local-relay/src/radius/index.ts';
import { type RunningEmulator, startEmulator } from '../support/duo-emulator/index.ts';
import { edgeTestBindings } from '../support/edge-bindings.ts';
import { type RunningEdge, startEdge } from '../support/edge-harness.ts';
import { type FreeRadiusHandle, startFreeRadius } from '../support/freeradius.ts';
import { EDGE_KEY, RELAY_A_KEY } from '../support/keys.ts';
import { expectedMppeKeys, generateAuthenticatorResponse } from '../support/mschapv2.ts';
import { openUdpPeer, radclient } from '../support/radclient.ts';
import { enc, msChapV2NasRequest, NAS_SECRET } from '../support/radius-upstream-fixtures.ts';
import { freeUdpPort } from '../support/wait.ts';

/**
 * The relay with an upstream RADIUS primary (a real FreeRADIUS 3.2), end to end through
 * the edge and the Duo emulator: PAP with pass-through attributes in the final Accept, and
 * MS-CHAPv2 whose MS-CHAP2-Success and MPPE keys reach the NAS re-encrypted for its secret.
 */

const UPSTREAM_SECRET = 'upstream-e2e-secret-77aa55cc33';
const PASSWORDS = { alice: 'alice-upstream-pass', frank: 'frank-upstream-pass' };

let emulator: RunningEmulator;
let edge: RunningEdge;
let upstream: FreeRadiusHandle;
let relay: RelayRuntime;
let dir: string;
let port: number;

/** Sends an MS-CHAPv2 Access-Request as a NAS would, returns the authentic reply. */
async function msChapLogin(user: string, password: string) {
  const ms = msChapV2NasRequest(user, password);
  const peer = await openUdpPeer();
  try {
    peer.send(ms.packet.bytes, port);
    const bytes = await peer.next(25_000);
    if (!bytes) throw new Error('no reply');
    expect(verifyResponseAuthenticator(bytes, ms.packet.authenticator, enc(NAS_SECRET))).toBe(true);
    const reply = decodePacket(bytes);
    if (!reply.ok) throw new Error('undecodable reply');
    return { ms, reply: reply.value };
  } finally {
    await peer.close();
  }
}

const microsoft = (reply: DecodedPacket, type: number) =>
  vendorAttributes(reply.attributes, MICROSOFT_VENDOR_ID).find((v) => v.vendorType === type)?.value;
const replyMessage = (reply: DecodedPacket) => {
  const v = getAttribute(reply, Attr.ReplyMessage);
  return v && decodeText(v);
};

beforeAll(async () => {
  [emulator, upstream] = await Promise.all([
    startEmulator({ pushDelayMs: 300 }),
    startFreeRadius({
      clients: [{ ip: '127.0.0.1', secret: UPSTREAM_SECRET }],
      mschap: true,
      users: [
        {
          name: 'alice',
          password: PASSWORDS.alice,
          replyAttrs: { Class: '0x76706e2d636c617373', 'Filter-Id': '"vpn-admins"', 'Session-Timeout': '7200' },
        },
        { name: 'frank', password: PASSWORDS.frank },
      ],
    }),
  ]);
  edge = await startEdge({ bindings: edgeTestBindings(emulator.url) as never });
  dir = await mkdtemp(join(tmpdir(), 'radius-upstream-flows-'));
  port = await freeUdpPort();
  await writeFile(join(dir, 'relay.key'), RELAY_A_KEY.privateKeyPem);
  await writeFile(join(dir, 'upstream.secret'), `${UPSTREAM_SECRET}\n`);
  await writeFile(
    join(dir, 'relay.toml'),
    `
[relay]
site = "site-a"
key_file = "relay.key"
failmode = "secure"
[edge]
urls = ["${edge.url}"]
public_key = "${EDGE_KEY.publicKey}"
auth_timeout_ms = 20000
[management]
listen = "127.0.0.1:0"
[primary]
type = "radius"
hosts = ["127.0.0.1:${upstream.port}"]
secret = { file = "upstream.secret" }
retry_wait_ms = 500
pass_through_attr_names = ["Class", "Filter-Id"]
[[server]]
mode = "auto"
listen = ["127.0.0.1:${port}"]
factors = ["auto", "passcode"]
[[server.client]]
name = "nas"
ip = "127.0.0.1"
secret = "${NAS_SECRET}"
`,
  );
  relay = await startRelay(await loadConfig(join(dir, 'relay.toml')), {
    logger: pino({ level: process.env.RELAY_E2E_LOG ?? 'silent' }),
  });
}, 90_000);

afterAll(async () => {
  await relay?.stop(1000);
  await edge?.stop();
  await emulator?.close();
  await upstream?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('PAP through the upstream RADIUS primary', () => {
  it('alice: upstream accepts, push approved → Accept carrying the pass-through attributes', async () => {
    const r = await radclient({
      port,
      secret: NAS_SECRET,
      attributes: ['User-Name = "alice"', `User-Password = "${PASSWORDS.alice}"`],
      timeoutS: 25,
      retries: 1,
    });
    expect(r.code).toBe('Access-Accept');
    expect(r.attributes).toContainEqual({ name: 'Filter-Id', value: 'vpn-admins' });
    expect(r.attributes).toContainEqual({ name: 'Class', value: '0x76706e2d636c617373' });
    // Not named in pass_through_attr_names: stays at the upstream.
    expect(r.attributes.some((a) => a.name === 'Session-Timeout')).toBe(false);
    expect(r.stdout).toMatch(/Received Access-Accept/);
  });

  it('a wrong password: Reject "Primary credentials rejected", no push', async () => {
    emulator.state.clearRequests();
    const r = await radclient({
      port,
      secret: NAS_SECRET,
      attributes: ['User-Name = "alice"', 'User-Password = "not-the-password"'],
      timeoutS: 10,
      retries: 1,
    });
    expect(r.code).toBe('Access-Reject');
    expect(r.attributes).toContainEqual({ name: 'Reply-Message', value: 'Primary credentials rejected' });
    expect(emulator.state.requests.filter((q) => q.endpoint === 'auth')).toEqual([]);
  });
});

describe('MS-CHAPv2 end to end', () => {
  it('alice approves the push → Accept with MS-CHAP2-Success and MPPE keys for the NAS secret', async () => {
    const pushes = emulator.state.pushes.get('alice') ?? 0;
    const { ms, reply } = await msChapLogin('alice', PASSWORDS.alice);
    expect(reply.code).toBe(Code.AccessAccept);
    expect(emulator.state.pushes.get('alice')).toBe(pushes + 1);
    expect(reply.attributes[0]!.type).toBe(Attr.MessageAuthenticator);

    const success = microsoft(reply, MsAttr.MsChap2Success);
    expect(success?.[0]).toBe(ms.ident);
    expect(decodeText(success!.subarray(1))).toBe(
      generateAuthenticatorResponse(
        PASSWORDS.alice,
        ms.ntResponse,
        ms.peerChallenge,
        ms.authenticatorChallenge,
        'alice',
      ),
    );
    const expected = expectedMppeKeys(PASSWORDS.alice, ms.ntResponse);
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    for (const [type, key] of [
      [MsAttr.MsMppeSendKey, expected.send],
      [MsAttr.MsMppeRecvKey, expected.recv],
    ] as const) {
      const sealed = microsoft(reply, type);
      expect(sealed, `MPPE key ${type}`).toBeDefined();
      const opened = decryptMppeKey(sealed!, enc(NAS_SECRET), ms.packet.authenticator);
      expect(opened.ok && hex(opened.value)).toBe(hex(key));
    }
    expect(decodeText(getAttribute(reply, Attr.FilterId)!)).toBe('vpn-admins');
  });

  it('a wrong password → Reject carrying the upstream MS-CHAP-Error', async () => {
    const { reply } = await msChapLogin('alice', 'wrong-password');
    expect(reply.code).toBe(Code.AccessReject);
    expect(replyMessage(reply)).toBe('Primary credentials rejected');
    const error = microsoft(reply, MsAttr.MsChapError);
    expect(error && decodeText(error.subarray(1))).toMatch(/^E=691/);
  });

  it('a user who could only type a passcode is rejected: no challenge for MS-CHAPv2', async () => {
    const { reply } = await msChapLogin('frank', PASSWORDS.frank);
    expect(reply.code).toBe(Code.AccessReject);
    expect(replyMessage(reply)).toBe(REPLY.noFactors);
  });
});
