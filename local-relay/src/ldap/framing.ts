import { err, ok, type Result } from '@duo-edge/contract/result';
import { type BerError, readHeader } from './ber.ts';

/**
 * Cuts a TCP byte stream into whole LDAPMessages. Only the outer header is read here: its length
 * is checked against `maxMessageBytes` as soon as the header is complete, so an announced giant
 * is refused before its bytes are waited for. Partial messages are kept as a list of chunks and
 * joined once, when complete; complete messages are views into the received chunk, not copies.
 */
export class MessageFramer {
  readonly #max: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;

  constructor(maxMessageBytes: number) {
    this.#max = maxMessageBytes;
  }

  /** Bytes held for a message not yet complete. */
  get buffered(): number {
    return this.#pendingBytes;
  }

  push(chunk: Uint8Array): Result<Uint8Array[], BerError> {
    let buf: Uint8Array = chunk;
    if (this.#pendingBytes > 0) {
      // Join only once the header says the message is complete; until then just collect.
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      const needed = this.#announced();
      if (!needed.ok) return needed;
      if (needed.value === undefined || needed.value > this.#pendingBytes) return ok([]);
      buf = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < buf.length) {
      const size = this.#size(buf, at);
      if (!size.ok) return size;
      if (size.value === undefined || at + size.value > buf.length) break;
      out.push(buf.subarray(at, at + size.value));
      at += size.value;
    }
    if (at < buf.length) {
      this.#pending = [buf.subarray(at)];
      this.#pendingBytes = buf.length - at;
    }
    return ok(out);
  }

  /** Total size of the pending message, once its header is in (chunks joined just for the header). */
  #announced(): Result<number | undefined, BerError> {
    const head = this.#pending[0]!.length >= 6 ? this.#pending[0]! : Buffer.concat(this.#pending).subarray(0, 6);
    return this.#size(head, 0);
  }

  /** Size of the message starting at `at`; undefined while its header is incomplete. */
  #size(buf: Uint8Array, at: number): Result<number | undefined, BerError> {
    if (buf[at] !== 0x30) return err('unexpected_tag');
    const header = readHeader(buf, at, buf.length);
    if (!header.ok) return header.error === 'truncated' ? ok(undefined) : header;
    const size = header.value.contentStart + header.value.length - at;
    if (size > this.#max) return err('too_large');
    return ok(size);
  }
}
