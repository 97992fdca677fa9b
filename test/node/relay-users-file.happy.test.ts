import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { hashPassword, parseScryptHash } from '../../local-relay/src/primary/scrypt-hash.ts';
import { createUsersFilePrimary, parseUsersFile, upsertUser } from '../../local-relay/src/primary/users-file.ts';

const logger = pino({ level: 'silent' });
const req = (username: string, password: string) => ({ username, password, clientIp: '127.0.0.1' });

describe('users file primary', () => {
  it('accepts the right password, rejects wrong, unknown and empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'users-'));
    const file = join(dir, 'users.txt');
    await writeFile(file, `# demo users\n\nalice:${await hashPassword('alice-pass')}\n`);
    const p = await createUsersFilePrimary({ path: file }, { logger });
    expect(await p.authenticate(req('alice', 'alice-pass'))).toEqual({ kind: 'accept' });
    expect(await p.authenticate(req('alice', 'alice-pasS'))).toMatchObject({ kind: 'reject' });
    expect(await p.authenticate(req('mallory', 'alice-pass'))).toMatchObject({
      kind: 'reject',
      reason: 'unknown user',
    });
    expect(await p.authenticate(req('alice', ''))).toMatchObject({ kind: 'reject' });
  });

  it('reload picks up changes; a broken file keeps the old table', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'users-'));
    const file = join(dir, 'users.txt');
    await upsertUser(file, 'alice', await hashPassword('one'));
    const p = await createUsersFilePrimary({ path: file }, { logger });
    expect(await upsertUser(file, 'alice', await hashPassword('two'))).toBe('updated');
    expect(await upsertUser(file, 'bob', await hashPassword('bob'))).toBe('added');
    await p.reload();
    expect(await p.authenticate(req('alice', 'two'))).toEqual({ kind: 'accept' });
    expect(p.size).toBe(2);
    await writeFile(file, 'garbage\n');
    await expect(p.reload()).rejects.toThrow(/users\.txt:1/);
    expect(await p.authenticate(req('bob', 'bob'))).toEqual({ kind: 'accept' });
  });

  it('upsert keeps comments and other users, and writes mode 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'users-'));
    const file = join(dir, 'users.txt');
    const bob = `bob:${await hashPassword('b')}`;
    await writeFile(file, `# keep me\n${bob}\n`);
    await upsertUser(file, 'alice', await hashPassword('a'));
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines[0]).toBe('# keep me');
    expect(lines[1]).toBe(bob);
    expect(lines[2]).toMatch(/^alice:\$scrypt\$N=16384,r=8,p=1\$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('rejects malformed lines, duplicate users and unsafe scrypt parameters with the line number', () => {
    expect(() => parseUsersFile('alice:plaintext\n', 'f')).toThrow('f:1');
    const h = '$scrypt$N=16384,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=';
    expect(() => parseUsersFile(`a:${h}\na:${h}\n`, 'f')).toThrow('f:2');
    expect(parseScryptHash(h.replace('N=16384', 'N=4194304'))).toBeUndefined();
    expect(parseScryptHash(h.replace('N=16384', 'N=1000'))).toBeUndefined();
  });
});
