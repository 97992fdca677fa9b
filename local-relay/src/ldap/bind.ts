import { randomBytes } from 'node:crypto';
import type { AutoFlowOptions } from '../flow/auto.ts';
import { createFlow, type FlowDeps } from '../flow/index.ts';
import { Login } from '../flow/login.ts';
import type { LoginOutcome } from '../flow/types.ts';
import { createNonePrimary } from '../primary/none.ts';
import type { PrimaryAuthenticator, PrimaryOutcome } from '../primary/types.ts';
import { isAtOrUnder, parseDn, type Rdn } from './dn.ts';
import {
  type BindRequest,
  decodeBindRequest,
  decodeEnvelope,
  decodeResultCode,
  type Envelope,
  encodeBindResponse,
  encodeSimpleBind,
  RESULT,
} from './message.ts';
import type { UsernameOf } from './username.ts';

/**
 * A BindRequest from the application. A simple bind is first made upstream with the same DN and
 * password (the primary); only when the directory accepts it, and the bind is not exempt, does
 * the login go through the relay's `auto` flow (preauth, factor, auth, failmode): the same code
 * and the same failmode table as a RADIUS login, with the upstream bind standing in for the
 * primary. What the application gets back:
 * - the directory said no: the directory's own BindResponse;
 * - Duo (or the failmode) said no: `invalidCredentials` with the reason, after an anonymous bind
 *   upstream has dropped the identity the password had established;
 * - allowed: the directory's success response.
 */

export interface BindPolicy {
  exemptPrimaryBind: boolean;
  exemptOu: ReadonlyArray<ReadonlyArray<Rdn>>;
  allowUnlimitedBinds: boolean;
  flow: AutoFlowOptions;
}

/** Per connection: what earlier binds established. */
export interface BindState {
  /** Binds the directory accepted (Duo's "primary bind" exemption is for the first one). */
  succeeded: number;
  /** Binds allowed through Duo. */
  duoVerified: number;
  /** The identity upstream now is one Duo verified. */
  duoBound: boolean;
  saslInProgress: boolean;
}

export const newBindState = (): BindState => ({ succeeded: 0, duoVerified: 0, duoBound: false, saslInProgress: false });

/** The session's side of an upstream exchange: send, and the response with that message ID. */
export type UpstreamExchange = (frame: Uint8Array, messageId: number) => Promise<Uint8Array>;

export interface BindContext {
  policy: BindPolicy;
  flowDeps: Omit<FlowDeps, 'primary'>;
  usernameOf: UsernameOf;
  clientAddress: string;
  exchange: UpstreamExchange;
}

export type BindResult =
  | { kind: 'reply'; frame: Uint8Array; close?: 'after_reply' }
  | { kind: 'malformed' }
  /** The upstream connection is in an unknown state: answer, then drop both connections. */
  | { kind: 'upstream_failed'; frame: Uint8Array };

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export async function handleBind(
  frame: Uint8Array,
  env: Envelope,
  state: BindState,
  ctx: BindContext,
): Promise<BindResult> {
  const req = decodeBindRequest(frame, env);
  if (!req.ok) return { kind: 'malformed' };
  const id = env.messageId;
  if (state.duoVerified > 0 && !ctx.policy.allowUnlimitedBinds) {
    // authproxy's allow_unlimited_binds = false: one Duo-verified identity per connection.
    const reply = encodeBindResponse(id, RESULT.unwillingToPerform, 'one bind per connection after a Duo login');
    return { kind: 'reply', frame: reply, close: 'after_reply' };
  }
  state.duoBound = false;
  const auth = req.value.auth;
  if (auth.kind !== 'simple') return saslBind(frame, id, state, ctx);
  let name: string;
  let password: string;
  try {
    name = decoder.decode(req.value.name);
    password = decoder.decode(auth.password);
  } catch {
    return { kind: 'reply', frame: encodeBindResponse(id, RESULT.invalidCredentials, 'name or password is not UTF-8') };
  }
  // An empty password is an anonymous or unauthenticated bind (RFC 4513 5.1): it proves nobody.
  if (password === '') return passThrough(frame, id, ctx, () => {});
  const dn = parseDn(name);
  const exempt =
    (ctx.policy.exemptPrimaryBind && state.succeeded === 0) ||
    (dn !== undefined && ctx.policy.exemptOu.some((ou) => isAtOrUnder(dn, ou)));
  if (exempt) {
    return passThrough(frame, id, ctx, (code) => {
      if (code !== RESULT.success) return;
      state.succeeded++;
      login(ctx, name.slice(0, 253)).exemptAccept();
    });
  }
  return duoBind(req.value, env, frame, name, password, state, ctx);
}

async function duoBind(
  req: BindRequest,
  env: Envelope,
  frame: Uint8Array,
  name: string,
  password: string,
  state: BindState,
  ctx: BindContext,
): Promise<BindResult> {
  const id = env.messageId;
  const controls = env.controls ? frame.subarray(env.controls.start, env.controls.end) : undefined;
  let last: { outcome: PrimaryOutcome; frame?: Uint8Array } | undefined;
  const primary: PrimaryAuthenticator = {
    kind: 'ldap',
    async authenticate(r) {
      const bind = encodeSimpleBind(id, req.name, new TextEncoder().encode(r.password ?? ''), controls);
      try {
        const response = await ctx.exchange(bind, id);
        const code = resultCode(response);
        const outcome: PrimaryOutcome =
          code === RESULT.success ? { kind: 'accept' } : { kind: 'reject', reason: `directory answered ${code}` };
        last = { outcome, frame: response };
      } catch (error) {
        last = { outcome: { kind: 'error', detail: error instanceof Error ? error.message : String(error) } };
      }
      return last.outcome;
    },
  };

  const username = await ctx.usernameOf(name);
  let outcome: LoginOutcome | undefined;
  if (username === undefined) {
    // The password may be right, but no Duo user can be named: never a success.
    await primary.authenticate({ username: name, password, clientIp: ctx.clientAddress });
    if (last?.outcome.kind === 'accept') {
      outcome = login(ctx, name.slice(0, 253)).reject('primary', 'relay', 'no Duo username for this bind DN');
    }
  } else {
    const flow = createFlow({ mode: 'auto', ...ctx.policy.flow }, { ...ctx.flowDeps, primary });
    outcome = await flow.handle({ username, password, nasIp: ctx.clientAddress, loginId: bindLoginId() });
  }

  if (last?.outcome.kind === 'reject') return { kind: 'reply', frame: last.frame! };
  if (last?.outcome.kind !== 'accept' || outcome === undefined) {
    const message = last?.outcome.kind === 'error' ? last.outcome.detail : 'directory unavailable';
    return { kind: 'upstream_failed', frame: encodeBindResponse(id, RESULT.unavailable, message) };
  }
  switch (outcome.code) {
    case 'accept':
      state.succeeded++;
      state.duoVerified++;
      state.duoBound = true;
      return { kind: 'reply', frame: last.frame! };
    case 'reject':
    case 'challenge':
      return denyAfterPrimary(id, outcome.replyMessage, ctx);
    case 'drop':
      // The relay is at its cap of concurrent primary checks: the application may retry the bind.
      return { kind: 'reply', frame: encodeBindResponse(id, RESULT.busy, 'too many binds in progress; retry') };
  }
}

/** The directory accepted the password, Duo did not: leave the upstream connection anonymous. */
async function denyAfterPrimary(id: number, message: string, ctx: BindContext): Promise<BindResult> {
  const reply = encodeBindResponse(id, RESULT.invalidCredentials, message);
  try {
    // Any answer, even a refusal, leaves the connection anonymous (RFC 4513 5.1.1).
    await ctx.exchange(encodeSimpleBind(id, new Uint8Array(0), new Uint8Array(0)), id);
    return { kind: 'reply', frame: reply };
  } catch {
    return { kind: 'upstream_failed', frame: reply };
  }
}

/** SASL (and other non-simple) binds: only as the exempt first bind, and the exchange it starts. */
async function saslBind(frame: Uint8Array, id: number, state: BindState, ctx: BindContext): Promise<BindResult> {
  const exempt = state.saslInProgress || (ctx.policy.exemptPrimaryBind && state.succeeded === 0);
  if (!exempt) {
    state.saslInProgress = false;
    return {
      kind: 'reply',
      frame: encodeBindResponse(id, RESULT.authMethodNotSupported, 'SASL binds are not accepted: use a simple bind'),
    };
  }
  return passThrough(frame, id, ctx, (code) => {
    state.saslInProgress = code === RESULT.saslBindInProgress;
    if (code === RESULT.success) state.succeeded++;
  });
}

async function passThrough(
  frame: Uint8Array,
  id: number,
  ctx: BindContext,
  onResult: (code: number | undefined) => void,
): Promise<BindResult> {
  try {
    const response = await ctx.exchange(frame, id);
    onResult(resultCode(response));
    return { kind: 'reply', frame: response };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { kind: 'upstream_failed', frame: encodeBindResponse(id, RESULT.unavailable, message) };
  }
}

function resultCode(frame: Uint8Array): number | undefined {
  const env = decodeEnvelope(frame);
  if (!env.ok) return undefined;
  const code = decodeResultCode(frame, env.value);
  return code.ok ? code.value : undefined;
}

/**
 * Each bind is a login of its own: LDAP runs over TCP, so there is no retransmit to join, and a
 * fresh random id keeps two binds (even the same user's on one connection) from sharing an approval.
 */
const bindLoginId = (): string => randomBytes(32).toString('hex');

/** A Login for decisions made outside the flow (exemptions), so they are audited the same way. */
function login(ctx: BindContext, username: string): Login {
  // These decisions follow a bind already made: the Login never asks a primary itself.
  const deps: FlowDeps = { ...ctx.flowDeps, primary: createNonePrimary() };
  return new Login({ username, nasIp: ctx.clientAddress, loginId: bindLoginId() }, deps, 'auto', ctx.policy.flow);
}
