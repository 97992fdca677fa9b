import { utf8 } from '@duo-edge/contract/encoding';

/**
 * Constant-time token check. Hashing both sides first gives equal-length inputs, so neither the
 * comparison nor a length check leaks how much of the token matched.
 */
export async function tokenMatches(presented: string, expected: string): Promise<boolean> {
  if (expected === '') return false;
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', utf8(presented)),
    crypto.subtle.digest('SHA-256', utf8(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}
