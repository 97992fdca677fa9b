import type { FlowDecision } from '../flow/decision.ts';

/**
 * The audit line the relay logs for every decision, and the redaction rules for every log line.
 *
 * The auth event mirrors the fields of Duo's authentication log (user, access device IP, factor,
 * result, reason) so an admin used to Duo's Admin Panel can read or ship it unchanged. One line
 * per decision, JSON through pino: `logger.info(authEventFields(decision))` with no message
 * argument, because the fields carry `msg` themselves.
 */

/** The flow's decision, plus the config section (Duo's `radius_server_*` name) that handled it. */
export type AuthDecision = FlowDecision & { serverSection?: string };

export const AUTH_EVENT_MSG = 'auth_event';

/** Every key present on every line: an absent optional is null. */
type Nullable<T> = { [K in keyof T]-?: Exclude<T[K], undefined> | null };

/**
 * The log line is a view of the decision record. It keeps Duo's authentication-log names for the
 * decision id (`event_id`) and the user (`user`), which log pipelines already key on.
 */
export type AuthEventFields = Pick<
  FlowDecision,
  'mode' | 'nas_ip' | 'stage' | 'result' | 'reason' | 'source' | 'latency_ms'
> &
  Nullable<Pick<FlowDecision, 'client_ip' | 'factor' | 'edge_failure'>> & {
    msg: typeof AUTH_EVENT_MSG;
    /** The decision's stable id (also the journal's), to join this line with the edge's audit log. */
    event_id: string;
    user: string;
    server_section: string | null;
  };

/**
 * Builds the line from an explicit field list, never by spreading the decision, so a field added
 * to the decision later (a password, a passcode) cannot reach the log by accident. Absent
 * optionals are null so every line has the same keys for log pipelines.
 */
export function authEventFields(d: AuthDecision): AuthEventFields {
  return {
    msg: AUTH_EVENT_MSG,
    event_id: d.id,
    mode: d.mode,
    user: d.username,
    client_ip: d.client_ip ?? null,
    nas_ip: d.nas_ip,
    stage: d.stage,
    factor: d.factor ?? null,
    result: d.result,
    reason: d.reason,
    source: d.source,
    edge_failure: d.edge_failure ?? null,
    latency_ms: Math.round(d.latency_ms),
    server_section: d.serverSection ?? null,
  };
}

/**
 * Keys whose values are credentials or key material anywhere in the relay: config (RADIUS
 * secrets, LDAP bind password, Ed25519 relay key, Duo skey from an imported authproxy.cfg), HTTP
 * (authorization), and RADIUS attributes by dictionary name (hidden passwords, CHAP/MS-CHAP
 * responses, MPPE keys).
 */
export const SECRET_KEYS = [
  'password',
  'passcode',
  'secret',
  'secrets',
  'shared_secret',
  'radius_secret',
  'skey',
  'secret_key',
  'private_key',
  'privateKey',
  'signing_key',
  'signingKey',
  'key_material',
  'bind_password',
  'bindPassword',
  'service_account_password',
  'authorization',
  'Authorization',
  'cookie',
  'token',
  'api_key',
  'User-Password',
  'CHAP-Password',
  'Tunnel-Password',
  'MS-CHAP-Response',
  'MS-CHAP2-Response',
  'MS-MPPE-Send-Key',
  'MS-MPPE-Recv-Key',
] as const;

/**
 * pino `redact.paths` for SECRET_KEYS at the top level and one object level down (`*.password`
 * catches `{ req: { password } }`, `{ config: { secret } }`).
 *
 * pino's redaction matches paths, not keys anywhere: deeper values are not covered, and each
 * wildcard path costs time on every log line (measured: ~0.1 ms per line for these paths on this
 * machine). Log flat objects with a known shape; never log a whole config or a decoded packet.
 */
export const redactPaths: readonly string[] = SECRET_KEYS.flatMap((key) => {
  const segment = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  return [segment, segment.startsWith('[') ? `*${segment}` : `*.${segment}`];
});
