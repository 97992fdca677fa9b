import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { decodePacket } from '../../local-relay/src/radius/index.ts';
import { buildRequest } from '../support/radclient.ts';
import { DEFAULT_TARGET, type FuzzTarget } from './corpus.ts';
import type { Violation } from './decoder-fuzz.ts';
import { generateMutant } from './mutators.ts';
import {
  ACCESS_ACCEPT,
  ACCESS_CHALLENGE,
  ACCESS_REJECT,
  ACCESS_REQUEST,
  all,
  equal,
  first,
  hex,
  MESSAGE_AUTHENTICATOR,
  PROXY_STATE,
  type RefPacket,
  refCheckMessageAuthenticator,
  refMustDiscard,
  refParse,
  refResponseAuthenticatorOk,
  refUnhide,
  STATUS_SERVER,
  USER_NAME,
  USER_PASSWORD,
} from './reference.ts';
import type { ChildStats } from './relay-child.ts';

/**
 * Live fuzz: mutants over UDP, at a bounded rate, to a relay in a child process (relay-child.ts).
 * Every reply is traced back to the request it answers (socket, Identifier, and the Response
 * Authenticator recomputed against each sent Request Authenticator) and judged by the oracle:
 * an Access-Accept must answer a request that decodes, carries a valid Message-Authenticator,
 * and names the known user with the right password (or is a signed Status-Server). Replies must
 * be authentic, Message-Authenticator first, echo Proxy-State, and never outnumber or disagree
 * with the requests they answer.
 */

export interface LiveFuzzOptions {
  seed: number;
  iterations?: number;
  seconds?: number;
  /** Datagrams per second (default 2000). */
  rate?: number;
  /** Source sockets (default 4): each is its own duplicate-detection space at the server. */
  sockets?: number;
  /** Share of sends that repeat an earlier datagram byte for byte (default 0.05). */
  replayShare?: number;
  /** Run against the deliberately broken relay (relay-child.ts --broken). */
  broken?: boolean;
  target?: FuzzTarget;
  maxViolations?: number;
}

export interface LiveFuzzReport {
  seed: number;
  broken: boolean;
  mutants: number;
  replays: number;
  seconds: number;
  sentPerSecond: number;
  /** Sent datagrams the relay never read (socket buffer overflow). */
  lost: number;
  /** Requests the oracle says deserve an Accept (right user+password+MA), and signed Status-Servers. */
  entitled: { logins: number; statusServers: number };
  decodeErrors: Record<string, number>;
  serverCounters: Record<string, number>;
  replies: Record<'accept' | 'reject' | 'challenge' | 'other', number>;
  crashes: number;
  unhandledRejections: number;
  uncaughtExceptions: number;
  statusServerAnswered: boolean;
  childRssBytes: number;
  violationCount: number;
  violations: Violation[];
}

interface Content {
  index: number;
  entitled: boolean;
  /** The RFCs say discard it: any reply to it is a violation. */
  mustDiscard: boolean;
  proxyStates: string;
}

interface RequestKey {
  authenticator: Uint8Array;
  contents: Map<string, Content>;
  sends: number;
  replies: number;
  replyDigests: Set<string>;
}

const CHILD = fileURLToPath(import.meta.resolve('./relay-child.ts'));
const DRAIN_TIMEOUT_MS = 15_000;
const QUIET_MS = 300;
const MAX_IN_FLIGHT = 4;

const digest = (b: Uint8Array) => createHash('sha1').update(b).digest('base64');
const proxyStatesOf = (p: RefPacket) =>
  digest(Buffer.concat(all(p, PROXY_STATE).map((v) => Buffer.concat([Buffer.of(v.length), v]))));

export async function runLiveFuzz(opts: LiveFuzzOptions): Promise<LiveFuzzReport> {
  if (opts.iterations === undefined && opts.seconds === undefined) throw new Error('iterations or seconds required');
  const target = opts.target ?? DEFAULT_TARGET;
  const rate = opts.rate ?? 2000;
  const maxViolations = opts.maxViolations ?? 20;
  const replayShare = opts.replayShare ?? 0.05;
  const report: LiveFuzzReport = {
    seed: opts.seed,
    broken: opts.broken ?? false,
    mutants: 0,
    replays: 0,
    seconds: 0,
    sentPerSecond: 0,
    lost: 0,
    entitled: { logins: 0, statusServers: 0 },
    decodeErrors: {},
    serverCounters: {},
    replies: { accept: 0, reject: 0, challenge: 0, other: 0 },
    crashes: 0,
    unhandledRejections: 0,
    uncaughtExceptions: 0,
    statusServerAnswered: false,
    childRssBytes: 0,
    violationCount: 0,
    violations: [],
  };
  const fail = (kind: string, detail: string, index = -1) => {
    report.violationCount++;
    if (report.violations.length >= maxViolations) return;
    const m = index >= 0 ? generateMutant(opts.seed, index, target) : undefined;
    report.violations.push({ kind, seed: opts.seed, index, ops: m?.ops ?? [], detail, hex: m ? hex(m.bytes) : '' });
  };

  const child = await startChild(target, report.broken);
  let stderrTail = '';
  child.process.stderr?.on('data', (d) => {
    stderrTail = (stderrTail + String(d)).slice(-4000);
  });
  let exited = false;
  child.process.on('exit', (code, signal) => {
    exited = true;
    if (!stopping) {
      report.crashes++;
      fail('crash', `relay exited (code ${code}, signal ${signal}): ${stderrTail}`);
    }
  });
  let stopping = false;

  const sent: Array<Map<number, Map<string, RequestKey>>> = [];
  const sockets: Socket[] = [];
  let lastReplyAt = performance.now();
  for (let s = 0; s < (opts.sockets ?? 4); s++) {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const byId = new Map<number, Map<string, RequestKey>>();
    sent.push(byId);
    sockets.push(socket);
    socket.on('message', (msg) => {
      lastReplyAt = performance.now();
      judgeReply(new Uint8Array(msg), byId);
    });
  }

  function judgeReply(bytes: Uint8Array, byId: Map<number, Map<string, RequestKey>>): void {
    const reply = refParse(bytes);
    if (!reply) {
      fail('reply_malformed', hex(bytes));
      return;
    }
    const kind =
      reply.code === ACCESS_ACCEPT
        ? 'accept'
        : reply.code === ACCESS_REJECT
          ? 'reject'
          : reply.code === ACCESS_CHALLENGE
            ? 'challenge'
            : 'other';
    report.replies[kind]++;
    if (kind === 'other') fail('reply_code', `code ${reply.code}`);
    const key = [...(byId.get(reply.identifier)?.values() ?? [])].find((k) =>
      refResponseAuthenticatorOk(reply, k.authenticator, target.secret),
    );
    if (!key) {
      fail('orphan_reply', `no sent request matches reply ${hex(bytes)}`);
      return;
    }
    const someIndex = key.contents.values().next().value?.index ?? -1;
    if (reply.attributes[0]?.type !== MESSAGE_AUTHENTICATOR) fail('reply_ma_not_first', hex(bytes), someIndex);
    if (refCheckMessageAuthenticator(reply, target.secret, key.authenticator) !== 'valid')
      fail('reply_bad_message_authenticator', hex(bytes), someIndex);
    const echoing = [...key.contents.values()].filter((c) => c.proxyStates === proxyStatesOf(reply));
    if (!echoing.length) fail('proxy_state_not_echoed', hex(bytes), someIndex);
    if (echoing.length && echoing.every((c) => c.mustDiscard)) {
      fail('reply_to_discarded_request', `a reply to a request the RFCs say to discard: ${hex(bytes)}`, someIndex);
    }
    if (kind === 'accept' && !echoing.some((c) => c.entitled)) {
      fail('accept_without_entitlement', `Access-Accept for a request without MA + right credentials`, someIndex);
    }
    key.replies++;
    key.replyDigests.add(digest(bytes));
    if (key.replies > key.sends) fail('more_replies_than_requests', `${key.replies} > ${key.sends}`, someIndex);
    if (key.replyDigests.size > key.contents.size)
      fail(
        'conflicting_replies',
        `${key.replyDigests.size} distinct replies to ${key.contents.size} request(s)`,
        someIndex,
      );
  }

  function record(s: number, bytes: Uint8Array, index: number): void {
    if (bytes.length < 20) return;
    const authenticator = bytes.slice(4, 20);
    const byId = sent[s]!;
    const id = bytes[1]!;
    const keys = byId.get(id) ?? new Map<string, RequestKey>();
    byId.set(id, keys);
    const authKey = hex(authenticator);
    const key = keys.get(authKey) ?? {
      authenticator,
      contents: new Map(),
      sends: 0,
      replies: 0,
      replyDigests: new Set(),
    };
    keys.set(authKey, key);
    key.sends++;
    const contentKey = digest(bytes);
    if (key.contents.has(contentKey)) return;
    const ref = refParse(bytes);
    const judgement = ref ? entitlement(ref, target) : undefined;
    if (judgement === 'login') report.entitled.logins++;
    if (judgement === 'status') report.entitled.statusServers++;
    key.contents.set(contentKey, {
      index,
      entitled: judgement !== undefined,
      mustDiscard: ref !== undefined && refMustDiscard(ref),
      proxyStates: ref ? proxyStatesOf(ref) : '',
    });
  }

  const started = performance.now();
  const deadline = opts.seconds === undefined ? Number.POSITIVE_INFINITY : started + opts.seconds * 1000;
  const limit = opts.iterations ?? Number.POSITIVE_INFINITY;
  const history: Array<{ s: number; bytes: Uint8Array; index: number }> = [];
  let index = 0;
  let lastTick = started;
  let ticks = 0;
  while (index < limit && performance.now() < deadline && !exited) {
    // Back-pressure: logins that reach the users file cost a scrypt each (unknown users too), and
    // on two cores a backlog of them starves the relay's event loop until its socket buffer
    // overflows. Pause while the relay has too many logins in flight; the pause earns no credit.
    if (ticks++ % 2 === 0) {
      let stats = await child.stats();
      while (stats && stats.inFlight > MAX_IN_FLIGHT && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        stats = await child.stats();
      }
      lastTick = performance.now();
    }
    const now = performance.now();
    const due = Math.min(limit, index + Math.max(1, Math.round(((now - lastTick) / 1000) * rate)));
    lastTick = now;
    for (; index < due; index++) {
      const old =
        history.length && (Math.imul(index, 2654435761) >>> 0) % 1000 < replayShare * 1000
          ? history[index % history.length]
          : undefined;
      if (old) {
        report.replays++;
        record(old.s, old.bytes, old.index);
        sockets[old.s]!.send(old.bytes, child.port, '127.0.0.1');
      }
      const m = generateMutant(opts.seed, index, target);
      const s = index % sockets.length;
      const decoded = decodePacket(m.bytes);
      if (!decoded.ok) report.decodeErrors[decoded.error.reason] = (report.decodeErrors[decoded.error.reason] ?? 0) + 1;
      record(s, m.bytes, index);
      sockets[s]!.send(m.bytes, child.port, '127.0.0.1');
      if (history.length < 256) history.push({ s, bytes: m.bytes, index });
      else history[index % 256] = { s, bytes: m.bytes, index };
      report.mutants++;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  report.seconds = (performance.now() - started) / 1000;
  report.sentPerSecond = Math.round((report.mutants + report.replays) / report.seconds);

  // Drain: every started login finished and the replies stopped coming.
  const drainDeadline = performance.now() + DRAIN_TIMEOUT_MS;
  while (!exited && performance.now() < drainDeadline) {
    const stats = await child.stats();
    if (stats && stats.inFlight === 0 && performance.now() - lastReplyAt > QUIET_MS) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  if (!exited) {
    report.statusServerAnswered = await statusServerAnswered(child.port, target.secret);
    if (!report.statusServerAnswered)
      fail('status_server_unanswered', 'the relay did not answer a valid Status-Server');
    const stats = await child.stats();
    if (!stats) fail('stats_unavailable', 'the relay did not answer over IPC');
    else {
      report.serverCounters = stats.counters;
      // The Status-Server above is the one datagram not counted in mutants + replays.
      report.lost = report.mutants + report.replays + 1 - (stats.counters.packets_received ?? 0);
      report.unhandledRejections = stats.unhandledRejections;
      report.uncaughtExceptions = stats.uncaughtExceptions;
      report.childRssBytes = stats.rssBytes;
      if (stats.unhandledRejections) fail('unhandled_rejection', `${stats.unhandledRejections}: ${stderrTail}`);
      if (stats.uncaughtExceptions) fail('uncaught_exception', `${stats.uncaughtExceptions}: ${stderrTail}`);
      for (const c of ['flow_errors', 'internal_errors'] as const)
        if (stats.counters[c]) fail(c, `server counter ${c} = ${stats.counters[c]}`);
    }
    if (report.entitled.logins > 0 && report.replies.accept === 0)
      fail('vacuous_run', 'entitled requests were sent but no Access-Accept came back: the oracle proved nothing');
  }
  stopping = true;
  await child.stop();
  for (const s of sockets) s.close();
  return report;
}

/** 'login': the known user, right password, valid Message-Authenticator. 'status': signed Status-Server. */
function entitlement(p: RefPacket, t: FuzzTarget): 'login' | 'status' | undefined {
  if (refCheckMessageAuthenticator(p, t.secret) !== 'valid' || refMustDiscard(p)) return undefined;
  if (p.code === STATUS_SERVER) return 'status';
  if (p.code !== ACCESS_REQUEST) return undefined;
  const user = first(p, USER_NAME);
  const hidden = first(p, USER_PASSWORD);
  if (!user || !hidden || !equal(user, new TextEncoder().encode(t.username))) return undefined;
  const plain = refUnhide(hidden, t.secret, p.authenticator);
  return plain && rightPassword(Buffer.from(plain).toString('latin1'), t.password) ? 'login' : undefined;
}

/** The password itself, or `password,<factor>` (allow_concat): the relay's flow may accept either. */
function rightPassword(typed: string, password: string): boolean {
  const expected = Buffer.from(password, 'utf8').toString('latin1');
  return typed === expected || (typed.startsWith(`${expected},`) && !typed.slice(expected.length + 1).includes(','));
}

async function statusServerAnswered(port: number, secret: Uint8Array): Promise<boolean> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  try {
    const req = buildRequest({ secret, code: STATUS_SERVER, identifier: 7 });
    for (let attempt = 0; attempt < 3; attempt++) {
      socket.send(req.bytes, port, '127.0.0.1');
      const reply = await Promise.race([
        once(socket, 'message').then(([m]) => refParse(new Uint8Array(m as Buffer))),
        new Promise<undefined>((r) => setTimeout(r, 1000)),
      ]);
      if (reply)
        return (
          reply.code === ACCESS_ACCEPT &&
          refResponseAuthenticatorOk(reply, req.authenticator, secret) &&
          refCheckMessageAuthenticator(reply, secret, req.authenticator) === 'valid'
        );
    }
    return false;
  } finally {
    socket.close();
  }
}

interface RelayChild {
  process: ChildProcess;
  port: number;
  stats(): Promise<ChildStats | undefined>;
  stop(): Promise<void>;
}

async function startChild(t: FuzzTarget, broken: boolean): Promise<RelayChild> {
  const args = ['--secret', new TextDecoder().decode(t.secret), '--username', t.username, '--password', t.password];
  if (broken) args.push('--broken');
  const child = fork(CHILD, args, {
    execPath: process.execPath,
    execArgv: [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('relay child did not start within 15 s')), 15_000);
    child.once('exit', (code) => reject(new Error(`relay child exited during start (code ${code})`)));
    child.on('message', (m: { type?: string; port?: number }) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m.port!);
      }
    });
  });
  return {
    process: child,
    port,
    stats: () =>
      new Promise((resolve) => {
        if (!child.connected) return resolve(undefined);
        const timer = setTimeout(() => resolve(undefined), 2000);
        const onMessage = (m: { type?: string }) => {
          if (m.type !== 'stats') return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(m as ChildStats);
        };
        child.on('message', onMessage);
        child.send({ type: 'stats' });
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      if (child.connected) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
