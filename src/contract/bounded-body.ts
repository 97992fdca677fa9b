/**
 * Reads at most `limit` bytes of a request or response body, on either side of the wire.
 * Content-Length is checked first, but the count of bytes actually read decides: a chunked body or
 * a lying header cannot get more in. Past the limit the stream is cancelled, not drained.
 */
export async function readBounded(
  message: { headers: Headers; body: ReadableStream<Uint8Array> | null },
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | 'too_large'> {
  const declared = message.headers.get('content-length');
  if (declared !== null && !(/^[0-9]+$/.test(declared) && Number(declared) <= limit)) {
    await message.body?.cancel().catch(() => {});
    return 'too_large';
  }
  if (!message.body) return new Uint8Array(0);
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      return 'too_large';
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
