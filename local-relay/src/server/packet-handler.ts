import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { LoginOutcome } from '../flow/types.ts';
import { Attr, Code } from '../radius/dictionary.ts';
import { checkMessageAuthenticator } from '../radius/message-authenticator.ts';
import { type DecodedPacket, decodePacket, getAttribute } from '../radius/packet.ts';
import type { ClientTable } from './client-table.ts';
import type { CounterName } from './counters.ts';
import { DedupCache } from './dedup.ts';
import { toLoginRequest } from './login-request.ts';
import { encodeOutcome, encodeStatusReply, type ReplyTo, replyToOf } from './outcome-reply.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { TokenBuckets } from './token-bucket.ts';
import type { RadiusClientEntry } from './types.ts';

export interface PacketSource {
  /** Unmapped source address (a v4 peer on a dual-stack socket appears as v4). */
  address: string;
  /** Address exactly as the socket reported it: replies go back there. */
  replyAddress: string;
  port: number;
}

export interface HandlerContext {
  logger: Logger;
  dedup: DedupCache;
  logLimiter: RateLimiter;
  /** Status-Server answers per client (key: listener and client name). */
  statusLimiter: TokenBuckets;
  /** `site`: the client's, once the packet is known to come from one. */
  count(name: CounterName, site?: string): void;
  flowStarted(): void;
  flowEnded(): void;
}

export interface ListenerState {
  /** Stable per listener for the life of the server: part of the dedup key ("receiving socket"). */
  id: string;
  table: ClientTable;
  send(bytes: Uint8Array, source: PacketSource): void;
}

/**
 * The per-datagram pipeline. Order matters for security: client lookup and Message-Authenticator
 * checks come before the dedup cache, because packets with an invalid Message-Authenticator must
 * not affect the cache (RFC 5080 §2.2.2). Never throws: the caller also guards, but every
 * expected failure is a counted drop here.
 */
export function handleDatagram(
  ctx: HandlerContext,
  listener: ListenerState,
  msg: Uint8Array,
  source: PacketSource,
): void {
  const client = listener.table.lookup(source.address);
  if (!client) {
    ctx.count('unknown_client');
    logDrop(
      ctx,
      'unknown_client',
      source.address,
      { source: source.address },
      'RADIUS packet from unknown client dropped',
    );
    return;
  }
  const decoded = decodePacket(msg);
  if (!decoded.ok) {
    dropFromClient(ctx, 'malformed', client, 'malformed RADIUS packet dropped', { error: decoded.error });
    return;
  }
  const packet = decoded.value;
  if (packet.code !== Code.AccessRequest && packet.code !== Code.StatusServer) {
    dropFromClient(ctx, 'unsupported_code', client, 'RADIUS packet code not served', { code: packet.code });
    return;
  }
  const ma = checkMessageAuthenticator(packet, client.secret);
  if (ma === 'invalid') {
    ctx.count('bad_message_authenticator', client.site);
    logDrop(ctx, 'bad_ma', client.name, { client: client.name }, 'invalid Message-Authenticator: packet dropped');
    return;
  }
  if (packet.code === Code.StatusServer) {
    // RFC 5997 §3: Message-Authenticator is mandatory whatever the client's flags say.
    if (ma === 'missing') {
      dropMissingMa(ctx, client);
      return;
    }
    if (!ctx.statusLimiter.take(`${listener.id}|${client.name}`)) {
      dropFromClient(ctx, 'status_server_rate_limited', client, 'Status-Server over its rate limit dropped');
      return;
    }
    ctx.count('status_server', client.site);
    const reply = encodeStatusReply(packet, client.secret);
    if (reply.ok) listener.send(reply.value, source);
    else ctx.count('encode_errors', client.site);
    return;
  }
  if (ma === 'missing') {
    if (client.requireMessageAuthenticator) {
      dropMissingMa(ctx, client);
      return;
    }
    if (client.limitProxyState && getAttribute(packet, Attr.ProxyState)) {
      ctx.count('proxy_state_without_message_authenticator', client.site);
      logDrop(
        ctx,
        'proxy_state',
        client.name,
        { client: client.name },
        'Access-Request with Proxy-State but no Message-Authenticator dropped (limit_proxy_state)',
      );
      return;
    }
    // RFC 3579 §3.2: EAP-Message without Message-Authenticator is silently discarded, whatever
    // the client's require_message_authenticator says.
    if (getAttribute(packet, Attr.EapMessage)) {
      dropFromClient(
        ctx,
        'eap_without_message_authenticator',
        client,
        'EAP-Message without Message-Authenticator dropped',
      );
      return;
    }
  }
  const repeated = repeatedSingleAttribute(packet);
  if (repeated !== undefined) {
    dropFromClient(
      ctx,
      'duplicate_attribute',
      client,
      'Access-Request with a repeated single-valued attribute dropped',
      {
        attribute: repeated,
      },
    );
    return;
  }
  const key = DedupCache.key(source.address, source.port, listener.id, packet.identifier);
  // The dedup entry and the reply keep one copy of the authenticator, not a view of the datagram.
  const authenticator = packet.authenticator.slice();
  const verdict = ctx.dedup.begin(key, authenticator);
  switch (verdict.kind) {
    case 'in_flight':
      ctx.count('duplicates_in_flight', client.site);
      return;
    case 'replay':
      ctx.count('duplicates_replayed', client.site);
      listener.send(verdict.reply, source);
      return;
    case 'new':
      ctx.count('access_requests', client.site);
      runFlow(ctx, listener, client, packet, { ...replyToOf(packet, authenticator), key, source });
      return;
  }
}

/** What the answer to a login needs once its flow is done; the decoded packet is not in it. */
interface Pending extends ReplyTo {
  key: string;
  source: PacketSource;
}

/**
 * Starts the login's flow. No async frame waits here: a login waiting on a push keeps only the
 * flow's promise reaction, whose closures hold `pending` (never the packet, which the request
 * keeps only as long as its primary check needs it).
 */
function runFlow(
  ctx: HandlerContext,
  listener: ListenerState,
  client: RadiusClientEntry,
  packet: DecodedPacket,
  pending: Pending,
): void {
  ctx.flowStarted();
  let outcome: Promise<LoginOutcome>;
  try {
    outcome = client.flow.handle(toLoginRequest(packet, client, pending.source.address));
  } catch (error) {
    outcome = Promise.reject(error);
  }
  outcome.then(
    (o) => answer(ctx, listener, client, pending, o),
    (error: unknown) => {
      // A flow must always answer; a throw is a bug. No reply: the NAS retries or fails over.
      ctx.count('flow_errors', client.site);
      ctx.dedup.abandon(pending.key, pending.authenticator);
      ctx.logger.error({ err: error, client: client.name }, 'login flow threw; no reply sent');
      ctx.flowEnded();
    },
  );
}

async function answer(
  ctx: HandlerContext,
  listener: ListenerState,
  client: RadiusClientEntry,
  pending: Pending,
  outcome: LoginOutcome,
): Promise<void> {
  const { key, source, authenticator } = pending;
  try {
    if (outcome.code === 'drop') {
      // No reply: the NAS retransmits, and that retransmit must be processed afresh.
      ctx.dedup.abandon(key, authenticator);
      dropFromClient(ctx, outcome.reason, client, 'Access-Request dropped: too many primary checks in flight');
      return;
    }
    const reply = encodeOutcome(outcome, pending, client.secret);
    if (!reply.ok) {
      ctx.count('encode_errors', client.site);
      ctx.dedup.abandon(key, authenticator);
      ctx.logger.error(
        { client: client.name, error: reply.error },
        'reply does not fit a RADIUS packet; no reply sent',
      );
      return;
    }
    // The reject waits on its own timer; the request stays pending meanwhile, so a retransmit
    // neither starts a second login nor gets an early answer. Once sent, the reply is cached and
    // replayed at once: a retransmit never waits longer than the original did.
    if (outcome.code === 'reject' && client.rejectDelayMs) await delay(client.rejectDelayMs);
    ctx.dedup.complete(key, authenticator, reply.value);
    listener.send(reply.value, source);
    ctx.count(
      outcome.code === 'accept' ? 'accepts' : outcome.code === 'reject' ? 'rejects' : 'challenges',
      client.site,
    );
  } catch (error) {
    ctx.count('internal_errors');
    ctx.logger.error({ err: error, client: client.name }, 'error while answering an Access-Request');
  } finally {
    ctx.flowEnded();
  }
}

/** RFC 2865 §5: at most one User-Name, User-Password and State in an Access-Request. */
const SINGLE_VALUED: ReadonlyMap<number, string> = new Map([
  [Attr.UserName, 'User-Name'],
  [Attr.UserPassword, 'User-Password'],
  [Attr.State, 'State'],
]);

/** Name of the first single-valued attribute that occurs more than once, if any. */
function repeatedSingleAttribute(packet: DecodedPacket): string | undefined {
  const seen = new Set<number>();
  for (const a of packet.attributes) {
    const name = SINGLE_VALUED.get(a.type);
    if (name === undefined) continue;
    if (seen.has(a.type)) return name;
    seen.add(a.type);
  }
  return undefined;
}

function dropMissingMa(ctx: HandlerContext, client: RadiusClientEntry): void {
  ctx.count('missing_message_authenticator', client.site);
  logDrop(
    ctx,
    'missing_ma',
    client.name,
    { client: client.name },
    'request without Message-Authenticator dropped (require_message_authenticator)',
  );
}

/** Counts a drop from a known client and logs it (rate-limited), the counter name as the reason. */
function dropFromClient(
  ctx: HandlerContext,
  counter: CounterName,
  client: RadiusClientEntry,
  msg: string,
  fields: object = {},
): void {
  ctx.count(counter, client.site);
  logDrop(ctx, counter, client.name, { client: client.name, ...fields }, msg);
}

function logDrop(ctx: HandlerContext, reason: string, who: string, fields: object, msg: string): void {
  if (ctx.logLimiter.allow(`${reason}|${who}`)) ctx.logger.warn({ ...fields, reason }, msg);
}
