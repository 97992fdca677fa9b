import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';

/**
 * A syslog receiver as a SIEM runs one: UDP (one message per datagram), TCP or TLS (octet-counted
 * frames, RFC 6587 / RFC 5425). It keeps every message it read, in order.
 */
export interface SyslogReceiver {
  port: number;
  messages: string[];
  /** Frames it could not parse (a bad length ends the connection). */
  errors: string[];
  close(): Promise<void>;
}

/**
 * Splits an octet-counted stream: the complete messages and the bytes of an incomplete last frame.
 * A malformed length ends the stream (`error`): nothing after it can be framed.
 */
export function parseOctetCounted(buffer: Buffer): { messages: string[]; rest: Buffer; error?: string } {
  const messages: string[] = [];
  let at = 0;
  while (at < buffer.length) {
    const space = buffer.indexOf(0x20, at);
    if (space === -1) {
      if (buffer.length - at > 10) return { messages, rest: buffer.subarray(at), error: 'length too long' };
      break;
    }
    const digits = buffer.subarray(at, space).toString('ascii');
    if (!/^[1-9]\d{0,9}$/.test(digits)) return { messages, rest: buffer.subarray(at), error: 'bad length' };
    const end = space + 1 + Number(digits);
    if (end > buffer.length) break;
    messages.push(buffer.subarray(space + 1, end).toString('utf8'));
    at = end;
  }
  return { messages, rest: buffer.subarray(at) };
}

export async function startSyslogReceiver(
  transport: 'udp' | 'tcp' | 'tls',
  opts: { port?: number; certDir?: string } = {},
): Promise<SyslogReceiver> {
  const messages: string[] = [];
  const errors: string[] = [];
  if (transport === 'udp') {
    const socket = createSocket('udp4');
    socket.on('message', (m) => messages.push(m.toString('utf8')));
    await new Promise<void>((resolve) => socket.bind(opts.port ?? 0, '127.0.0.1', resolve));
    return {
      port: socket.address().port,
      messages,
      errors,
      close: () => new Promise((resolve) => socket.close(() => resolve())),
    };
  }
  const sockets = new Set<Socket>();
  const onConnection = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let pending: Buffer = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      const parsed = parseOctetCounted(Buffer.concat([pending, chunk]));
      messages.push(...parsed.messages);
      pending = parsed.rest;
      if (parsed.error) {
        errors.push(parsed.error);
        s.destroy();
      }
    });
  };
  let server: Server;
  if (transport === 'tls') {
    const dir = opts.certDir;
    if (!dir) throw new Error('a tls receiver needs certDir (makeCertificates)');
    const [key, cert] = await Promise.all([readFile(join(dir, 'server.key')), readFile(join(dir, 'server.pem'))]);
    server = createTlsServer({ key, cert }, onConnection);
  } else {
    server = createTcpServer(onConnection);
  }
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    messages,
    errors,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
