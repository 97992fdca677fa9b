import { createSocket, type Socket } from 'node:dgram';
import { type LookupOneOptions, lookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { ClientTable, unmapIpv4 } from './client-table.ts';
import { type CounterName, newCounters, RELAY_WIDE_COUNTERS } from './counters.ts';
import { DedupCache } from './dedup.ts';
import { type HandlerContext, handleDatagram, type ListenerState, type PacketSource } from './packet-handler.ts';
import { RateLimiter } from './rate-limit.ts';
import { TokenBuckets } from './token-bucket.ts';
import type { BoundAddress, ListenerSpec, RadiusServer, RadiusServerOptions } from './types.ts';

const DROP_LOG_INTERVAL_MS = 10_000;
const DEFAULT_GRACE_MS = 5_000;
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** A monitor probes every few seconds at most; a burst covers a few probes arriving together. */
const STATUS_SERVER_RATE = { perSecond: 2, burst: 5 };

/**
 * Replies go to the address the request came from, always an IP literal: answer at once instead
 * of node's default, which defers every send by a process.nextTick. Names (a listener `host`
 * given as a hostname) still go through dns.lookup.
 */
function literalLookup(
  address: string,
  options: LookupOneOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(address);
  if (family !== 0) callback(null, address, family);
  else lookup(address, options, callback);
}

interface Listener extends ListenerState {
  spec: ListenerSpec;
  socket?: Socket;
}

/** UDP listeners, one socket each, feeding the packet pipeline (packet-handler.ts). */
export function createRadiusServer(opts: RadiusServerOptions): RadiusServer {
  const { logger } = opts;
  const counters = newCounters();
  /** The same counts by the site of the client's section (heartbeats are per site). */
  const bySite = new Map<string, Record<CounterName, number>>();
  let inFlight = 0;
  let stopping = false;
  let drained: (() => void) | undefined;
  const statusRate = opts.statusServerRate ?? STATUS_SERVER_RATE;

  const ctx: HandlerContext = {
    logger,
    dedup: new DedupCache(opts.dedupTtlMs ?? 30_000, opts.dedupMaxEntries ?? 10_000),
    logLimiter: new RateLimiter(DROP_LOG_INTERVAL_MS),
    statusLimiter: new TokenBuckets(statusRate.perSecond, statusRate.burst),
    count: (name: CounterName, site?: string) => {
      counters[name]++;
      if (site === undefined) return;
      let mine = bySite.get(site);
      if (!mine) {
        mine = newCounters();
        bySite.set(site, mine);
      }
      mine[name]++;
    },
    flowStarted: () => {
      inFlight++;
    },
    flowEnded: () => {
      inFlight--;
      if (inFlight === 0) drained?.();
    },
  };

  const listeners: Listener[] = opts.listeners.map((spec, i) => {
    const listener: Listener = {
      id: `L${i}`,
      spec,
      table: new ClientTable(spec.clients),
      send: (bytes, to) => send(listener, bytes, to),
    };
    return listener;
  });

  // Sends still queued in libuv: closing the socket under them would drop the last replies.
  let pendingSends = 0;
  let sendsFlushed: (() => void) | undefined;

  // One callback for every send rather than a closure per reply.
  function sent(error: Error | null): void {
    if (error) counters.send_errors++;
    if (--pendingSends === 0) sendsFlushed?.();
  }

  function send(listener: Listener, bytes: Uint8Array, to: PacketSource): void {
    const socket = listener.socket;
    if (!socket) {
      counters.send_errors++;
      return;
    }
    try {
      pendingSends++;
      socket.send(bytes, to.port, to.replyAddress, sent);
    } catch {
      pendingSends--;
      // The socket closed while a late flow was finishing (stop() grace expired).
      counters.send_errors++;
    }
  }

  function onMessage(listener: Listener, msg: Buffer, address: string, port: number): void {
    counters.packets_received++;
    if (stopping) {
      counters.dropped_stopping++;
      return;
    }
    try {
      handleDatagram(ctx, listener, msg, { address: unmapIpv4(address), replyAddress: address, port });
    } catch (error) {
      counters.internal_errors++;
      logger.error({ err: error }, 'unexpected error handling a RADIUS packet');
    }
  }

  function bind(listener: Listener): Promise<BoundAddress> {
    return new Promise((resolve, reject) => {
      const socket = createSocket({
        type: isIPv6(listener.spec.host) ? 'udp6' : 'udp4',
        // Room for bursts (a NAS fleet retransmitting at once) while the loop is busy; the kernel
        // caps these at net.core.rmem_max / wmem_max.
        recvBufferSize: SOCKET_BUFFER_BYTES,
        sendBufferSize: SOCKET_BUFFER_BYTES,
        lookup: literalLookup,
      });
      listener.socket = socket;
      const onError = (error: Error) => reject(error);
      socket.once('error', onError);
      socket.on('message', (msg, rinfo) => onMessage(listener, msg, rinfo.address, rinfo.port));
      socket.bind(listener.spec.port, listener.spec.host, () => {
        socket.off('error', onError);
        socket.on('error', (error) => logger.error({ err: error, listener: listener.id }, 'RADIUS socket error'));
        const a = socket.address();
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  async function closeAll(): Promise<void> {
    if (pendingSends > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        sendsFlushed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      sendsFlushed = undefined;
    }
    await Promise.all(
      listeners.map(
        (l) =>
          new Promise<void>((resolve) => {
            const socket = l.socket;
            l.socket = undefined;
            if (!socket) return resolve();
            try {
              socket.close(() => resolve());
            } catch {
              resolve();
            }
          }),
      ),
    );
  }

  return {
    async start() {
      try {
        const bound = await Promise.all(listeners.map(bind));
        for (const b of bound) logger.info({ host: b.host, port: b.port }, 'RADIUS listener ready');
        return bound;
      } catch (error) {
        await closeAll();
        throw error;
      }
    },

    async stop(graceMs = DEFAULT_GRACE_MS) {
      stopping = true;
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        drained = undefined;
        if (inFlight > 0) logger.warn({ inFlight }, 'stopping with logins still in flight');
      }
      await closeAll();
    },

    reload(specs) {
      const tables = specs.map((spec) => ({ spec, table: new ClientTable(spec.clients) }));
      for (const { spec, table } of tables) {
        const listener = listeners.find((l) => l.spec.host === spec.host && l.spec.port === spec.port);
        if (listener) listener.table = table;
        else logger.warn({ host: spec.host, port: spec.port }, 'reload cannot add a listener; restart to bind it');
      }
    },

    counters: () => ({ ...counters }),
    siteCounters(site) {
      const out: Record<string, number> = { ...(bySite.get(site) ?? newCounters()) };
      for (const name of RELAY_WIDE_COUNTERS) delete out[name];
      return out;
    },
    inFlight: () => inFlight,
  };
}
