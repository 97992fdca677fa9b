import type { Readable } from 'node:stream';
import { ResetError } from './exchange.ts';

/**
 * An answer's body, kept only up to a cap: a declared Content-Length over it, or more bytes than it
 * actually arriving, means the caller drops the stream at once. Never buffered without bound.
 * A record rather than a promise with listeners of its own, so that an h2 stream's answer record
 * can feed it: thousands of answers arriving together then cost no closures each.
 */
export class CappedBody {
  private readonly limit: number;
  private readonly chunks: Buffer[] = [];
  private total = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** A Content-Length that is not a plain number, or is over the cap. */
  static declaredOver(declaredLength: string | undefined, limit: number): boolean {
    return declaredLength !== undefined && !(/^[0-9]+$/.test(declaredLength) && Number(declaredLength) <= limit);
  }

  /** False once the body is past the cap: the caller drops the stream. */
  add(chunk: Buffer): boolean {
    this.total += chunk.byteLength;
    if (this.total > this.limit) return false;
    this.chunks.push(chunk);
    return true;
  }

  bytes(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.total);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.byteLength;
    }
    return out;
  }
}

/**
 * Reads at most `limit` bytes of an answer from a readable (an HTTP/1.1 response): `drop` is called
 * when it is over the cap. A stream that closes before its end is a reset.
 */
export function readCapped(
  stream: Readable,
  declaredLength: string | undefined,
  limit: number,
  drop: () => void,
): Promise<Uint8Array<ArrayBuffer> | 'too_large'> {
  if (CappedBody.declaredOver(declaredLength, limit)) {
    drop();
    return Promise.resolve('too_large');
  }
  const body = new CappedBody(limit);
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      if (body.add(chunk)) return;
      cleanup();
      drop();
      resolve('too_large');
    };
    const onEnd = () => {
      cleanup();
      resolve(body.bytes());
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
