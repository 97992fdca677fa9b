/**
 * Primary authentication (the password check before Duo) behind one small interface. Failmode never
 * applies here: every non-`accept` outcome ends in Access-Reject.
 */

/** A RADIUS attribute as raw bytes (type 26 = Vendor-Specific keeps its whole value). */
export interface RawAttribute {
  type: number;
  value: Uint8Array;
}

export interface PrimaryRequest {
  username: string;
  /** PAP password (already unhidden). Absent for MS-CHAPv2 requests (only `radius` takes those). */
  password?: string;
  clientIp: string;
  /** The original RADIUS request's attributes, for upstream proxying and pass-through. */
  raw?: unknown;
  /** This request answers the primary's own challenge: `password` is the user's answer to it. */
  continuation?: PrimaryContinuation;
}

/**
 * Where an upstream RADIUS Access-Challenge left the exchange. It stays on the relay (the NAS only
 * ever sees the relay's own State) until the answer continues it.
 */
export interface PrimaryContinuation {
  /** The upstream's State, echoed back unmodified; absent when the challenge carried none. */
  state?: Uint8Array;
  /** The server that challenged: only it knows the State. */
  host: string;
  port: number;
}

export type PrimaryOutcome =
  /** `attributes`: reply attributes to pass through into the final Access-Accept (upstream RADIUS). */
  | { kind: 'accept'; attributes?: ReadonlyArray<RawAttribute> }
  /**
   * Wrong password, unknown user, not in group. Reply-Message `Primary credentials rejected`.
   * `attributes`: for the NAS's Access-Reject (MS-CHAP-Error tells an MS-CHAPv2 client why).
   */
  | { kind: 'reject'; reason: string; attributes?: ReadonlyArray<RawAttribute> }
  /** Directory or upstream unreachable. Reply-Message `Error performing primary authentication: <detail>`. */
  | { kind: 'error'; detail: string }
  /**
   * Not passed yet: the upstream RADIUS server asks the user something first (next token code, new
   * PIN). `replyMessage` is its question; `attributes` go into the relay's Access-Challenge (Prompt,
   * and the pass-through attributes an Access-Challenge may carry).
   */
  | {
      kind: 'challenge';
      replyMessage: string;
      continuation: PrimaryContinuation;
      attributes?: ReadonlyArray<RawAttribute>;
    };

export interface PrimaryAuthenticator {
  /** `none` for duo_only: there is no primary, and fail-open is refused unless acknowledged. */
  readonly kind: 'none' | 'users_file' | 'ldap' | 'radius';
  authenticate(req: PrimaryRequest, signal?: AbortSignal): Promise<PrimaryOutcome>;
  /** For `duo-relay check`: can the primary be reached with the configured credentials? */
  check?(signal?: AbortSignal): Promise<{ ok: boolean; detail: string }>;
  close?(): Promise<void>;
}
