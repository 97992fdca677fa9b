import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIPv6, type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from 'pino';
import { octetCounted } from './format.ts';

/**
 * Ships formatted syslog messages to one receiver without ever making a login wait: `send` only
 * queues. The queue is bounded; what does not fit is dropped and counted. TCP and TLS reconnect
 * with a capped back-off and flush the queue on reconnect; a message the kernel accepted before
 * the connection broke is lost with it (syslog over TCP has no acknowledgement).
 */
export interface SyslogTarget {
  transport: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
  /** PEM of the CA that signed the receiver's certificate (tls); default the system's CAs. */
  ca?: Buffer;
}

export interface SyslogSink {
  send(message: string): void;
  /** Messages dropped (queue full or a UDP send that failed) since start. */
  dropped(): number;
  close(): Promise<void>;
}

export interface SinkOptions {
  maxQueue: number;
  logger: Logger;
  /** First reconnect delay; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export function createSyslogSink(target: SyslogTarget, opts: SinkOptions): SyslogSink {
  return target.transport === 'udp' ? udpSink(target, opts) : streamSink(target, opts);
}

function udpSink(target: SyslogTarget, opts: SinkOptions): SyslogSink {
  const socket: UdpSocket = createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
  // ICMP errors from a receiver that is down arrive here; each lost datagram is counted in send.
  socket.on('error', (err) => opts.logger.debug({ err }, 'syslog udp socket error'));
  let inFlight = 0;
  let dropped = 0;
  return {
    send(message) {
      if (inFlight >= opts.maxQueue) {
        dropped++;
        return;
      }
      inFlight++;
      socket.send(Buffer.from(message, 'utf8'), target.port, target.host, (err) => {
        inFlight--;
        if (err) dropped++;
      });
    },
    dropped: () => dropped,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function streamSink(target: SyslogTarget, opts: SinkOptions): SyslogSink {
  const backoffMs = opts.backoffMs ?? 250;
  const maxBackoffMs = opts.maxBackoffMs ?? 30_000;
  const queue: Buffer[] = [];
  let dropped = 0;
  let socket: Socket | undefined;
  let writable = false;
  let closed = false;
  let delay = backoffMs;
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    while (socket && writable && queue.length > 0) {
      writable = socket.write(queue.shift()!);
    }
  };

  const open = () => {
    timer = undefined;
    const s =
      target.transport === 'tls'
        ? tlsConnect({ host: target.host, port: target.port, ...(target.ca ? { ca: target.ca } : {}) })
        : tcpConnect({ host: target.host, port: target.port });
    socket = s;
    s.setNoDelay(true);
    s.once(target.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      delay = backoffMs;
      writable = true;
      flush();
    });
    s.on('drain', () => {
      writable = true;
      flush();
    });
    // A receiver never writes back in syslog; reading keeps a half-closed peer from lingering.
    s.on('data', () => {});
    s.on('error', (err) =>
      opts.logger.warn({ err: err.message, target: `${target.host}:${target.port}` }, 'syslog connection failed'),
    );
    s.once('close', () => {
      socket = undefined;
      writable = false;
      if (closed) return;
      timer = setTimeout(open, delay);
      timer.unref();
      delay = Math.min(delay * 2, maxBackoffMs);
    });
  };
  open();

  return {
    send(message) {
      if (queue.length >= opts.maxQueue) {
        dropped++;
        return;
      }
      queue.push(octetCounted(message));
      flush();
    },
    dropped: () => dropped,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const s = socket;
      if (!s) return;
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => s.destroy(), 1000);
        force.unref();
        s.once('close', () => {
          clearTimeout(force);
          resolve();
        });
        s.end();
      });
    },
  };
}
