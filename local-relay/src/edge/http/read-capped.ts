import type { Readable } from 'node:stream';
import { ResetError } from './exchange.ts';

/**
 * Reads at most `limit` bytes of an answer. A declared Content-Length over the cap, or more bytes
 * than the cap actually arriving, drops the stream at once (`drop`): never buffered without bound.
 * A stream that closes before its end is a reset.
 */
export function readCapped(
  stream: Readable,
  declaredLength: string | undefined,
  limit: number,
  drop: () => void,
): Promise<Uint8Array<ArrayBuffer> | 'too_large'> {
  if (declaredLength !== undefined && !(/^[0-9]+$/.test(declaredLength) && Number(declaredLength) <= limit)) {
    drop();
    return Promise.resolve('too_large');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > limit) {
        cleanup();
        drop();
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      const out = new Uint8Array(total);
      let offset = 0;
      for (const c of chunks) {
        out.set(c, offset);
        offset += c.byteLength;
      }
      resolve(out);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new ResetError('the answer was cut off before its end'));
    };
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}
