import { fromBase64Url, toBase64Url, utf8 } from '@duo-edge/contract/encoding';
import { z } from 'zod';

/**
 * Opaque page cursor: the (time, id) key of the last row served, base64url JSON. Keyset paging on
 * the same order as the listing, so pages never overlap or skip rows even while new rows arrive.
 */
export interface CursorKey {
  time: number;
  id: string;
}

const cursorKeySchema = z.tuple([z.number().int().nonnegative(), z.string().min(1).max(64)]);

export const encodeCursor = (key: CursorKey): string => toBase64Url(utf8(JSON.stringify([key.time, key.id])));

/** null for anything that is not a cursor this module produced. */
export function decodeCursor(cursor: string): CursorKey | null {
  const bytes = fromBase64Url(cursor);
  if (!bytes) return null;
  try {
    const parsed = cursorKeySchema.safeParse(
      JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)),
    );
    return parsed.success ? { time: parsed.data[0], id: parsed.data[1] } : null;
  } catch {
    return null;
  }
}
