/**
 * The LDAP fuzz oracle's own BER reading, written apart from local-relay/src/ldap on purpose (no
 * shared code, a different shape: recursive, BigInt integers) so that the two cannot share a bug.
 * From X.690 (BER) as restricted by RFC 4511 5.1: definite lengths only, tag numbers below 31,
 * at most four long-form length octets; INTEGERs in minimal form.
 */

export interface RefNode {
  tag: number;
  start: number;
  end: number;
  contentStart: number;
  children?: RefNode[];
}

/** Parses one element at `pos` that must end by `end`; constructed ones recursively to `depth`. */
function parseNode(buf: Uint8Array, pos: number, end: number, depth: number, maxDepth: number): RefNode | undefined {
  if (end - pos < 2) return undefined;
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) return undefined;
  const l0 = buf[pos + 1]!;
  let len: number;
  let cs: number;
  if ((l0 & 0x80) === 0) {
    len = l0;
    cs = pos + 2;
  } else {
    const n = l0 & 0x7f;
    if (n === 0 || n > 4 || pos + 2 + n > end) return undefined;
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + buf[pos + 2 + k]!;
    cs = pos + 2 + n;
  }
  if (cs + len > end) return undefined;
  const node: RefNode = { tag, start: pos, end: cs + len, contentStart: cs };
  if ((tag & 0x20) !== 0) {
    if (depth > maxDepth) return undefined;
    node.children = [];
    let p = cs;
    while (p < cs + len) {
      const child = parseNode(buf, p, cs + len, depth + 1, maxDepth);
      if (!child) return undefined;
      node.children.push(child);
      p = child.end;
    }
  }
  return node;
}

function refInteger(buf: Uint8Array, n: RefNode): bigint | undefined {
  const bytes = buf.subarray(n.contentStart, n.end);
  if (bytes.length === 0) return undefined;
  if (bytes.length > 1) {
    const nine = (bytes[0]! << 1) | (bytes[1]! >> 7);
    if (nine === 0 || nine === 0x1ff) return undefined;
  }
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  if (bytes[0]! & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return v;
}

export interface RefMessage {
  messageId: number;
  opTag: number;
  hasControls: boolean;
  bind?: { name: Uint8Array; simplePassword?: Uint8Array };
}

/**
 * An LDAPMessage that fills `msg` exactly, nesting to `maxDepth` constructed levels (the message
 * itself is level 1); undefined for anything else.
 */
export function refDecodeMessage(msg: Uint8Array, maxDepth: number): RefMessage | undefined {
  const root = parseNode(msg, 0, msg.length, 1, maxDepth);
  if (!root || root.tag !== 0x30 || root.end !== msg.length) return undefined;
  const kids = root.children!;
  if (kids.length < 2 || kids.length > 3) return undefined;
  const [id, op, controls] = kids as [RefNode, RefNode, RefNode | undefined];
  if (id.tag !== 0x02) return undefined;
  const v = refInteger(msg, id);
  if (v === undefined || v < 0n || v > 2147483647n) return undefined;
  if ((op.tag & 0xc0) !== 0x40) return undefined;
  if (controls && controls.tag !== 0xa0) return undefined;
  const out: RefMessage = { messageId: Number(v), opTag: op.tag, hasControls: controls !== undefined };
  if (op.tag === 0x60) {
    const b = op.children!;
    if (b.length !== 3 || b[0]!.tag !== 0x02 || b[1]!.tag !== 0x04) return out;
    const version = refInteger(msg, b[0]!);
    if (version === undefined || version < 0n || version > 2147483647n) return out;
    out.bind = {
      name: msg.slice(b[1]!.contentStart, b[1]!.end),
      ...(b[2]!.tag === 0x80 ? { simplePassword: msg.slice(b[2]!.contentStart, b[2]!.end) } : {}),
    };
  }
  return out;
}

/**
 * Where a stream of messages splits, reading headers only: sizes of the whole messages at the
 * front, then `error` when a header is impossible or announces more than `max` bytes, or the
 * count of bytes left waiting for more.
 */
export function refFrames(stream: Uint8Array, max: number): { sizes: number[]; error: boolean; rest: number } {
  const sizes: number[] = [];
  let p = 0;
  while (p < stream.length) {
    if (stream[p] !== 0x30) return { sizes, error: true, rest: 0 };
    if (stream.length - p < 2) break;
    const l0 = stream[p + 1]!;
    let size: number;
    if (l0 < 0x80) size = 2 + l0;
    else {
      const n = l0 & 0x7f;
      if (n === 0 || n > 4) return { sizes, error: true, rest: 0 };
      if (stream.length - p < 2 + n) break;
      let len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + stream[p + 2 + k]!;
      size = 2 + n + len;
    }
    if (size > max) return { sizes, error: true, rest: 0 };
    if (p + size > stream.length) break;
    sizes.push(size);
    p += size;
  }
  return { sizes, error: false, rest: stream.length - p };
}
