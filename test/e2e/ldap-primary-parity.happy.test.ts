import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPLY } from '@duo-edge/contract/messages';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RelayRuntime, startRelay } from '../../local-relay/src/cli/runtime.ts';
import { loadConfig } from '../../local-relay/src/config/load.ts';
import { hashPassword } from '../../local-relay/src/primary/scrypt-hash.ts';
import { type RunningEmulator, startEmulator } from '../support/duo-emulator/index.ts';
import { edgeTestBindings } from '../support/edge-bindings.ts';
import { type RunningEdge, startEdge } from '../support/edge-harness.ts';
import { EDGE_KEY, RELAY_A_KEY } from '../support/keys.ts';
import { type RadclientReply, radclient } from '../support/radclient.ts';
import { type Slapd, startSlapd } from '../support/slapd.ts';
import { freeUdpPort } from '../support/wait.ts';

/**
 * radclient → relay (LDAP primary against a real slapd) → edge → Duo emulator
 * gives the same results as with the users file, for every demo user. One table, run against
 * both primaries side by side; the answers must be equal.
 */

const SECRET = 'ldap-primary-parity-secret-0123456';
const DEMO = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'] as const;

type Want = { code: string; message?: string | RegExp; answer?: { password: string; code: string } };
const TABLE: Record<(typeof DEMO)[number], Want> = {
  alice: { code: 'Access-Accept' },
  bob: { code: 'Access-Reject' },
  carol: { code: 'Access-Accept' },
  dave: { code: 'Access-Reject' },
  erin: { code: 'Access-Reject', message: /enroll/i },
  frank: {
    code: 'Access-Challenge',
    message: REPLY.enterPasscode,
    answer: { password: '123456', code: 'Access-Accept' },
  },
  // Duo's own status message for a push nobody answered.
  grace: { code: 'Access-Reject', message: /timed out/i },
};

let emulator: RunningEmulator;
let edge: RunningEdge;
let slapd: Slapd;
let dir: string;
const relays: Partial<Record<'users_file' | 'ldap', { runtime: RelayRuntime; port: number }>> = {};

async function startWith(kind: 'users_file' | 'ldap', primary: string) {
  const port = await freeUdpPort();
  const file = join(dir, `${kind}.toml`);
  await writeFile(
    file,
    `
[relay]
site = "site-a"
key_file = "relay.key"
state_dir = "state-${kind}"
failmode = "secure"
[edge]
urls = ["${edge.url}"]
public_key = "${EDGE_KEY.publicKey}"
preauth_timeout_ms = 5000
auth_timeout_ms = 20000
[management]
listen = "127.0.0.1:0"
[primary]
${primary}
[[server]]
mode = "auto"
listen = ["127.0.0.1:${port}"]
factors = ["auto", "passcode"]
[[server.client]]
name = "loopback"
ip = "127.0.0.1"
secret = "${SECRET}"
`,
  );
  const loaded = await loadConfig(file, { LDAP_SVC_PASSWORD: slapd.servicePassword });
  const runtime = await startRelay(loaded, { logger: pino({ level: process.env.RELAY_E2E_LOG ?? 'silent' }) });
  relays[kind] = { runtime, port };
}

const send = (port: number, user: string, password: string, extra: string[] = []) =>
  radclient({
    port,
    secret: SECRET,
    attributes: [`User-Name = "${user}"`, `User-Password = "${password}"`, ...extra],
    timeoutS: 25,
    retries: 1,
  });

const attr = (r: RadclientReply, name: string) => r.attributes.find((a) => a.name === name)?.value;

/** The login as a NAS sees it, challenge answered if there is one. */
async function outcome(port: number, user: string) {
  const first = await send(port, user, `${user}-pass`);
  const out = { code: first.code, message: attr(first, 'Reply-Message') };
  const want = TABLE[user as keyof typeof TABLE];
  if (first.code !== 'Access-Challenge' || !want.answer) return { first: out };
  const second = await send(port, user, want.answer.password, [`State = ${attr(first, 'State')}`]);
  return { first: out, second: { code: second.code, message: attr(second, 'Reply-Message') } };
}

beforeAll(async () => {
  [emulator, slapd] = await Promise.all([startEmulator({ pushDelayMs: 300 }), startSlapd()]);
  edge = await startEdge({ bindings: edgeTestBindings(emulator.url) as never });
  dir = await mkdtemp(join(tmpdir(), 'ldap-primary-parity-'));
  await writeFile(join(dir, 'relay.key'), RELAY_A_KEY.privateKeyPem);
  const lines = await Promise.all(DEMO.map(async (u) => `${u}:${await hashPassword(`${u}-pass`)}`));
  await writeFile(join(dir, 'users.txt'), `${lines.join('\n')}\n`);
  await startWith('users_file', 'type = "users_file"\npath = "users.txt"');
  await startWith(
    'ldap',
    `type = "ldap"
hosts = ["${slapd.ldapsUrl}"]
transport = "ldaps"
ca_file = "${slapd.caFile}"
service_account_dn = "${slapd.serviceDn}"
service_account_password = { env = "LDAP_SVC_PASSWORD" }
search_dn = "${slapd.baseDn}"
username_attribute = "uid"
connect_timeout_ms = 3000
timeout_ms = 3000`,
  );
}, 90_000);

afterAll(async () => {
  for (const r of Object.values(relays)) await r?.runtime.stop(1000);
  await edge?.stop();
  await emulator?.close();
  await slapd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('every demo user: LDAP primary answers exactly as the users file', () => {
  it.each(DEMO)('%s', async (user) => {
    const want = TABLE[user];
    const [viaFile, viaLdap] = await Promise.all([
      outcome(relays.users_file!.port, user),
      outcome(relays.ldap!.port, user),
    ]);
    expect(viaLdap).toEqual(viaFile);
    expect(viaFile.first.code).toBe(want.code);
    if (want.message) expect(viaFile.first.message).toMatch(want.message);
    if (want.answer) expect(viaFile.second?.code).toBe(want.answer.code);
  });

  it('a wrong password is "Primary credentials rejected" with both, and no push is sent', async () => {
    emulator.state.clearRequests();
    for (const r of [relays.users_file!, relays.ldap!]) {
      const reply = await send(r.port, 'alice', 'not-alice-pass');
      expect(reply.code).toBe('Access-Reject');
      expect(attr(reply, 'Reply-Message')).toBe('Primary credentials rejected');
    }
    expect(emulator.state.requests.filter((q) => q.endpoint === 'auth')).toEqual([]);
  });
});
