import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, importPrivateKeyPem, publicKeyOf } from '@duo-edge/contract/ed25519';
import { hashPassword } from '../../../local-relay/src/primary/scrypt-hash.ts';
import type { SitesConfigInput } from '../../../src/sites/schema.ts';
import { DEMO_USERS } from '../duo-emulator/index.ts';
import { DEMO_INTEGRATION_CONFIG } from '../edge-bindings.ts';
import { DEMO, type LocalStackOptions } from './options.ts';

/**
 * The local stack's state directory: keys made on first start and kept (so a relay.toml copied
 * elsewhere, or `duo-relay check`, keeps working across restarts), and the users file, relay.toml
 * and sites config rewritten at every start from the current ports.
 */

export interface StackFiles {
  dir: string;
  relayConfig: string;
  edgePersistDir: string;
  edgeSigningKeyPem: string;
  adminToken: string;
  sitesConfig: SitesConfigInput;
}

export const DEMO_USER_NAMES = Object.keys(DEMO_USERS);
export const demoPassword = (user: string) => `${user}-pass`;

export async function prepareStateDir(opts: LocalStackOptions, edgeUrl: string): Promise<StackFiles> {
  const dir = opts.stateDir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const relayKey = await keyPair(join(dir, 'relay.key'));
  const edgeKey = await keyPair(join(dir, 'edge-signing.key'));
  const adminToken = await persistent(join(dir, 'admin-token'), () => randomBytes(24).toString('base64url'));

  const users = await Promise.all(DEMO_USER_NAMES.map(async (u) => `${u}:${await hashPassword(demoPassword(u))}`));
  await secretFile(
    join(dir, 'users.txt'),
    `# Demo users of the local stack (password = <name>-pass), rewritten by npm start.\n${users.join('\n')}\n`,
  );

  const relayConfig = join(dir, 'relay.toml');
  await writeFile(relayConfig, relayToml(opts, edgeUrl, edgeKey.publicKey));

  return {
    dir,
    relayConfig,
    edgePersistDir: join(dir, 'edge-state'),
    edgeSigningKeyPem: edgeKey.privateKeyPem,
    adminToken,
    sitesConfig: {
      integrations: { [DEMO.integrationName]: DEMO_INTEGRATION_CONFIG },
      sites: {
        [DEMO.site]: {
          integration: DEMO.integrationName,
          failmode: 'safe',
          relay_keys: [{ key: relayKey.publicKey, name: 'local-relay' }],
          factors: ['auto', 'passcode'],
        },
      },
    },
  };
}

/** The relay's config, as an admin would write it (docs/configuration.md). */
function relayToml(opts: LocalStackOptions, edgeUrl: string, edgePublicKey: string): string {
  return `# Written by npm start (test/support/local-stack); rewritten at every start.

[relay]
site = "${DEMO.site}"
key_file = "relay.key"
state_dir = "relay-state"
failmode = "safe"
shutdown_grace_ms = 2000

[edge]
urls = ["${edgeUrl}"]
public_key = "${edgePublicKey}"

[log]
level = "${opts.relayLogLevel}"

[management]
listen = "${opts.host}:${opts.metricsPort}"

[primary]
type = "users_file"
path = "users.txt"

[[server]]
mode = "auto"
listen = ["${opts.host}:${opts.radiusPort}"]
# frank has only a hardware token: "passcode" makes the relay ask for it (Access-Challenge).
factors = ["auto", "passcode"]

[[server.client]]
name = "localhost"
ip = "${opts.host}"
secret = "${DEMO.radiusSecret}"
require_message_authenticator = true
`;
}

async function keyPair(file: string): Promise<{ privateKeyPem: string; publicKey: string }> {
  const privateKeyPem = await persistent(file, async () => (await generateKeyPair()).privateKeyPem);
  const key = await importPrivateKeyPem(privateKeyPem);
  if (!key) throw new Error(`${file} is not an Ed25519 private key: delete it and start again`);
  return { privateKeyPem, publicKey: await publicKeyOf(key) };
}

async function persistent(file: string, make: () => string | Promise<string>): Promise<string> {
  const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  if (existing.trim() !== '') return existing.trim();
  const value = await make();
  await secretFile(file, value);
  return value;
}

async function secretFile(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
}
