import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashes of the users file: `$scrypt$N=16384,r=8,p=1$<salt b64>$<hash b64>`.
 * The parameters travel with each hash so they can be raised later without breaking old entries.
 */
export interface ScryptHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

export const DEFAULT_PARAMS = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const PATTERN = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

export function parseScryptHash(text: string): ScryptHash | undefined {
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Powers of two only, and bounded so one crafted line cannot make every login burn a CPU second.
  if (!(N >= 1024 && N <= 1 << 20 && (N & (N - 1)) === 0) || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const salt = Buffer.from(m[4]!, 'base64');
  const hash = Buffer.from(m[5]!, 'base64');
  if (salt.length < 16 || hash.length < 16) return undefined;
  return { N, r, p, salt, hash };
}

export function formatScryptHash(h: ScryptHash): string {
  return `$scrypt$N=${h.N},r=${h.r},p=${h.p}$${h.salt.toString('base64')}$${h.hash.toString('base64')}`;
}

export function derive(
  password: string,
  h: Pick<ScryptHash, 'N' | 'r' | 'p' | 'salt'>,
  length: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      h.salt,
      length,
      { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, { ...DEFAULT_PARAMS, salt }, KEY_LENGTH);
  return formatScryptHash({ ...DEFAULT_PARAMS, salt, hash });
}

export async function verifyPassword(password: string, h: ScryptHash): Promise<boolean> {
  const key = await derive(password, h, h.hash.length);
  return timingSafeEqual(key, h.hash);
}

/** Burns the same work as a real check, for users that do not exist (no timing oracle). */
export async function dummyVerify(password: string): Promise<false> {
  await derive(password, { ...DEFAULT_PARAMS, salt: DUMMY_SALT }, KEY_LENGTH);
  return false;
}

const DUMMY_SALT = randomBytes(16);
