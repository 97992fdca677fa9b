import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../lib/atomic-file.ts';
import { dummyVerify, parseScryptHash, type ScryptHash, verifyPassword } from './scrypt-hash.ts';
import type { PrimaryAuthenticator, PrimaryOutcome, PrimaryRequest } from './types.ts';

/**
 * Primary auth from a local file: one `username:$scrypt$…` per line, `#` comments and blank lines
 * ignored. Read at start and on reload; a broken file keeps the previous table.
 */

export interface UsersFilePrimary extends PrimaryAuthenticator {
  readonly kind: 'users_file';
  reload(): Promise<void>;
  readonly size: number;
}

export class UsersFileError extends Error {
  readonly file: string;
  readonly line: number | undefined;
  constructor(file: string, line: number | undefined, problem: string) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${problem}`);
    this.file = file;
    this.line = line;
  }
}

const SEPARATOR = ':$scrypt$';

export function parseUsersFile(text: string, file: string): Map<string, ScryptHash> {
  const users = new Map<string, ScryptHash>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = line.indexOf(SEPARATOR);
    if (at <= 0) throw new UsersFileError(file, i + 1, 'expected `username:$scrypt$…`');
    const username = line.slice(0, at);
    const hash = parseScryptHash(line.slice(at + 1));
    if (!hash) throw new UsersFileError(file, i + 1, `invalid scrypt hash for user ${username}`);
    if (users.has(username)) throw new UsersFileError(file, i + 1, `user ${username} listed twice`);
    users.set(username, hash);
  });
  return users;
}

async function readUsers(file: string): Promise<Map<string, ScryptHash>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsersFileError(file, undefined, (error as Error).message);
  }
  return parseUsersFile(text, file);
}

export async function createUsersFilePrimary(
  opts: { path: string },
  deps: { logger: Logger },
): Promise<UsersFilePrimary> {
  const log = deps.logger.child({ component: 'primary-users-file' });
  let users = await readUsers(opts.path);
  log.info({ file: opts.path, users: users.size }, 'users file loaded');

  return {
    kind: 'users_file',
    get size() {
      return users.size;
    },
    async authenticate(req: PrimaryRequest): Promise<PrimaryOutcome> {
      const password = req.password ?? '';
      const hash = users.get(req.username);
      if (!hash) {
        await dummyVerify(password);
        return { kind: 'reject', reason: 'unknown user' };
      }
      if (password === '') return { kind: 'reject', reason: 'empty password' };
      return (await verifyPassword(password, hash)) ? { kind: 'accept' } : { kind: 'reject', reason: 'wrong password' };
    },
    async check() {
      return { ok: true, detail: `${users.size} users in ${opts.path}` };
    },
    async reload() {
      users = await readUsers(opts.path);
      log.info({ file: opts.path, users: users.size }, 'users file reloaded');
    },
  };
}

/**
 * Adds or replaces one user's line, keeping every other line (comments included) as it was.
 * Written atomically with mode 0600: the file holds password hashes.
 */
export async function upsertUser(file: string, username: string, hash: string): Promise<'added' | 'updated'> {
  if (username === '' || username.includes(SEPARATOR) || /[\r\n]/.test(username) || username.startsWith('#')) {
    throw new UsersFileError(file, undefined, 'invalid username');
  }
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  parseUsersFile(text, file);
  const entry = `${username}:${hash}`;
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const index = lines.findIndex((l) => l.trim().startsWith(`${username}${SEPARATOR}`));
  if (index >= 0) lines[index] = entry;
  else lines.push(entry);
  await writeFileAtomic(file, `${lines.join('\n')}\n`);
  return index >= 0 ? 'updated' : 'added';
}
