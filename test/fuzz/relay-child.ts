/**
 * The relay under live fuzz, in its own process so that a crash cannot hide inside the test
 * runner: the real packet path (createRadiusServer) in front of the real `auto` flow with the
 * users-file primary (one known user) and a fake edge that allows everything, so the only things
 * between a mutant and an Access-Accept are the packet layer and the primary.
 *
 * `--broken` swaps in what the oracle must catch: Message-Authenticator not required and a flow
 * that accepts everyone.
 *
 * Talks to the parent over IPC: sends {type:'ready', port}; answers {type:'stats'} with the server
 * counters and the unhandled rejection / uncaught exception counts; {type:'stop'} exits.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { EdgeApi } from '../../local-relay/src/edge/client.ts';
import { ChallengeStore, createFlow } from '../../local-relay/src/flow/index.ts';
import type { LoginFlow } from '../../local-relay/src/flow/types.ts';
import { derive, formatScryptHash } from '../../local-relay/src/primary/scrypt-hash.ts';
import { createUsersFilePrimary } from '../../local-relay/src/primary/users-file.ts';
import { createRadiusServer } from '../../local-relay/src/server/index.ts';

export interface ChildStats {
  type: 'stats';
  counters: Record<string, number>;
  inFlight: number;
  unhandledRejections: number;
  uncaughtExceptions: number;
  rssBytes: number;
}

const faults = { unhandledRejections: 0, uncaughtExceptions: 0 };
process.on('unhandledRejection', (reason) => {
  faults.unhandledRejections++;
  process.stderr.write(`unhandledRejection: ${String((reason as Error)?.stack ?? reason)}\n`);
});
process.on('uncaughtException', (error) => {
  faults.uncaughtExceptions++;
  process.stderr.write(`uncaughtException: ${String(error?.stack ?? error)}\n`);
});

const { values } = parseArgs({
  options: {
    secret: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    broken: { type: 'boolean', default: false },
  },
});
const secret = new TextEncoder().encode(values.secret ?? '');
const logger = pino({ level: 'silent' });

const allowAll: EdgeApi = {
  preauth: async () => ({ kind: 'ok', value: { result: 'allow', message: 'fuzz edge allows', source: 'duo' } }),
  auth: async () => ({
    kind: 'ok',
    value: { result: 'allow', message: 'fuzz edge allows', source: 'duo', status: 'allow' },
  }),
};

const dir = await mkdtemp(join(tmpdir(), 'duo-relay-fuzz-'));
// The cheapest cost the users file accepts: the fuzz wants packets per second, not hash strength.
const params = { N: 1024, r: 8, p: 1, salt: randomBytes(16) };
const hash = formatScryptHash({ ...params, hash: await derive(values.password ?? '', params, 32) });
await writeFile(join(dir, 'users'), `${values.username}:${hash}\n`, { mode: 0o600 });
const primary = await createUsersFilePrimary({ path: join(dir, 'users') }, { logger });

const flow: LoginFlow = values.broken
  ? { handle: async () => ({ code: 'accept' }) }
  : createFlow(
      {
        mode: 'auto',
        exemptUsernames: [],
        clientIpAttr: 'default',
        factors: ['auto'],
        allowConcat: true,
        delimiter: ',',
        delimitedPasswordLength: 0,
      },
      { primary, edge: allowAll, policy: { failmode: () => 'safe' }, challenges: new ChallengeStore(), logger },
    );

const server = createRadiusServer({
  listeners: [
    {
      host: '127.0.0.1',
      port: 0,
      clients: [
        {
          name: 'fuzz',
          cidr: '127.0.0.1',
          secret,
          requireMessageAuthenticator: !values.broken,
          limitProxyState: !values.broken,
          flow,
        },
      ],
    },
  ],
  logger,
});
const [bound] = await server.start();

process.on('message', async (msg: { type?: string }) => {
  if (msg.type === 'stats') {
    const stats: ChildStats = {
      type: 'stats',
      counters: server.counters(),
      inFlight: server.inFlight(),
      ...faults,
      rssBytes: process.memoryUsage().rss,
    };
    process.send?.(stats);
  } else if (msg.type === 'stop') {
    await server.stop(1_000);
    await rm(dir, { recursive: true, force: true });
    process.disconnect?.();
    process.exit(0);
  }
});
process.send?.({ type: 'ready', port: bound!.port });
