import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { ConfigError, EX_CONFIG } from '../config/errors.ts';
import { RELAY_VERSION } from '../runtime/version.ts';
import { USAGE } from './usage.ts';

const EX_USAGE = 64;

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const stdio: Io = {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
};

/**
 * The `duo-relay` command line. Resolves with the exit status. Each command loads its own modules
 * when it runs: a running relay (`start`) does not carry the other commands' code in memory.
 */
export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.out(USAGE.main);
        return command === undefined ? EX_USAGE : 0;
      case '--version':
      case '-v':
        io.out(RELAY_VERSION);
        return 0;
      case 'start':
        return await startCommand(rest, io);
      case 'keygen':
        return await keygenCommand(rest, io);
      case 'hash-password':
        return await hashPasswordCommand(rest, io);
      case 'test-auth':
        return await testAuthCommand(rest, io);
      case 'check':
        return await checkCommand(rest, io);
      case 'import-authproxy':
        return await importAuthproxyCommand(rest, io);
      default:
        io.err(`unknown command: ${command}\n\n${USAGE.main}`);
        return EX_USAGE;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`invalid configuration:\n${error.message}`);
      return EX_CONFIG;
    }
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\n${error.usage}`);
      return EX_USAGE;
    }
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

class UsageError extends Error {
  readonly usage: string;
  constructor(message: string, usage: string) {
    super(message);
    this.usage = usage;
  }
}

function args<T extends ParseArgsOptionsConfig>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean' as const } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message, usage);
  }
}

async function startCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(argv, { config: { type: 'string', short: 'c' } }, USAGE.start);
  if (values.help) return help(io, USAGE.start);
  if (typeof values.config !== 'string' || positionals.length > 0)
    throw new UsageError('start needs --config FILE', USAGE.start);
  // --help, keygen and hash-password stay quick without the server stack.
  const { start } = await import('./start.ts');
  await start(values.config);
  return 0;
}

async function keygenCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(
    argv,
    { out: { type: 'string', short: 'o' }, force: { type: 'boolean' } },
    USAGE.keygen,
  );
  if (values.help) return help(io, USAGE.keygen);
  if (positionals.length > 0) throw new UsageError('keygen takes no arguments', USAGE.keygen);
  const out = typeof values.out === 'string' ? values.out : 'relay.key';
  const { keygen } = await import('./keygen.ts');
  const publicKey = await keygen(out, values.force === true);
  io.err(`wrote ${out} (mode 0600). Register this public key for the relay's site at the edge:`);
  io.out(publicKey);
  return 0;
}

async function hashPasswordCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(argv, { file: { type: 'string', short: 'f' } }, USAGE.hashPassword);
  if (values.help) return help(io, USAGE.hashPassword);
  const [user, ...extra] = positionals;
  if (!user || extra.length > 0) throw new UsageError('hash-password needs exactly one USER', USAGE.hashPassword);
  const { readPassword } = await import('./read-password.ts');
  const password = await readPassword();
  if (password === '') throw new UsageError('empty password', USAGE.hashPassword);
  const { hashPassword } = await import('../primary/scrypt-hash.ts');
  const hash = await hashPassword(password);
  if (typeof values.file === 'string') {
    const { upsertUser } = await import('../primary/users-file.ts');
    const what = await upsertUser(values.file, user, hash);
    io.err(`${what} ${user} in ${values.file}`);
  } else {
    io.out(`${user}:${hash}`);
  }
  return 0;
}

async function testAuthCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(
    argv,
    {
      server: { type: 'string', short: 's', default: '127.0.0.1:1812' },
      secret: { type: 'string', default: 'demo-radius-secret' },
      factor: { type: 'string', short: 'f' },
      timeout: { type: 'string', short: 't', default: '75' },
    },
    USAGE.testAuth,
  );
  if (values.help) return help(io, USAGE.testAuth);
  const [username, password, ...extra] = positionals;
  if (!username || extra.length > 0) throw new UsageError('test-auth needs USER [PASSWORD]', USAGE.testAuth);
  const { parseTarget } = await import('./radius-client.ts');
  const target = parseTarget(String(values.server));
  if (!target) throw new UsageError(`--server: expected host[:port], got ${values.server}`, USAGE.testAuth);
  const timeout = Number(values.timeout);
  if (!(timeout > 0)) throw new UsageError('--timeout: expected seconds > 0', USAGE.testAuth);
  const { testAuth } = await import('./test-auth.ts');
  const { createLineInput } = await import('./line-input.ts');
  return testAuth(
    {
      username,
      ...(password !== undefined ? { password } : {}),
      target,
      secret: String(values.secret),
      ...(typeof values.factor === 'string' ? { factor: values.factor } : {}),
      timeoutMs: timeout * 1000,
    },
    io,
    createLineInput(),
  );
}

async function checkCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(argv, { config: { type: 'string', short: 'c' } }, USAGE.check);
  if (values.help) return help(io, USAGE.check);
  if (typeof values.config !== 'string' || positionals.length > 0)
    throw new UsageError('check needs --config FILE', USAGE.check);
  const { runChecks } = await import('./check.ts');
  const ok = await runChecks(values.config, (l) => io.out(`${l.ok ? '[ok]  ' : '[FAIL]'} ${l.name}: ${l.detail}`));
  io.out(ok ? 'all checks passed' : 'some checks FAILED');
  return ok ? 0 : 1;
}

async function importAuthproxyCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(
    argv,
    {
      out: { type: 'string', short: 'o', default: 'relay.toml' },
      'site-out': { type: 'string', default: 'site.json' },
      site: { type: 'string', default: 'main' },
      'edge-url': { type: 'string' },
      'edge-public-key': { type: 'string' },
      'relay-public-key': { type: 'string' },
      force: { type: 'boolean' },
    },
    USAGE.importAuthproxy,
  );
  if (values.help) return help(io, USAGE.importAuthproxy);
  const [input, ...extra] = positionals;
  if (!input || extra.length > 0)
    throw new UsageError('import-authproxy needs one authproxy.cfg', USAGE.importAuthproxy);
  const { importAuthproxy } = await import('./import-authproxy.ts');
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return importAuthproxy(
    { input, relayOut: String(values.out), siteOut: String(values['site-out']), force: values.force === true },
    {
      site: String(values.site),
      ...(str(values['edge-url']) ? { edgeUrl: str(values['edge-url'])! } : {}),
      ...(str(values['edge-public-key']) ? { edgePublicKey: str(values['edge-public-key'])! } : {}),
      ...(str(values['relay-public-key']) ? { relayPublicKey: str(values['relay-public-key'])! } : {}),
    },
    io,
  );
}

function help(io: Io, text: string): number {
  io.out(text);
  return 0;
}
