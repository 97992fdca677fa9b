import type { Logger } from 'pino';
import type { LoginFlow } from '../flow/types.ts';
import type { DecodedPacket } from '../radius/packet.ts';

export interface RadiusClientEntry {
  name: string;
  /** IP or CIDR, v4 or v6; the most specific match for a source address wins. */
  cidr: string;
  secret: Uint8Array;
  /** BlastRADIUS: drop Access-Requests without Message-Authenticator (default true). */
  requireMessageAuthenticator: boolean;
  /** Consulted only when requireMessageAuthenticator is false: drop Proxy-State without MA. */
  limitProxyState: boolean;
  /**
   * Access-Rejects to this client leave this long after the decision (absent or 0: at once), so a
   * password guesser learns slowly; other logins are not held back.
   */
  rejectDelayMs?: number;
  /** The edge site of the client's section: its requests are also counted under it. */
  site?: string;
  flow: LoginFlow;
}

export interface ListenerSpec {
  host: string;
  port: number;
  clients: RadiusClientEntry[];
}

export interface BoundAddress {
  host: string;
  port: number;
}

export interface RadiusServer {
  /** Binds every listener; resolves with the actual ports (port 0 → ephemeral). */
  start(): Promise<BoundAddress[]>;
  /** Stops reading, waits for in-flight flows up to graceMs (default 5000), then closes sockets. */
  stop(graceMs?: number): Promise<void>;
  /**
   * Replaces the client tables of running listeners (matched by the host and port they were
   * created with) without dropping in-flight requests. Listeners cannot be added or removed.
   */
  reload(listeners: ListenerSpec[]): void;
  /** Relay-wide totals. */
  counters(): Record<string, number>;
  /** The totals of requests from clients of this site's sections; no relay-wide counter. */
  siteCounters(site: string): Record<string, number>;
  inFlight(): number;
}

export interface RadiusServerOptions {
  listeners: ListenerSpec[];
  logger: Logger;
  /** How long an answered request's reply is replayed to retransmits (RFC 5080 §2.2.2). */
  dedupTtlMs?: number;
  /** Bound on cached replies; the oldest is evicted first. Pending requests are not counted. */
  dedupMaxEntries?: number;
  /** Status-Server answers per client (RFC 5997 §3): refill per second and burst. */
  statusServerRate?: { perSecond: number; burst: number };
}

/**
 * `LoginRequest.raw` as set by this server: the authenticated request and the secret of the
 * client that sent it, so an upstream RADIUS primary can re-hide the password or proxy
 * MS-CHAPv2 attributes and re-encrypt MPPE keys for the NAS.
 */
export interface RadiusRawRequest {
  packet: DecodedPacket;
  secret: Uint8Array;
  clientName: string;
}
