import type { RawAttribute } from '../primary/types.ts';

/**
 * The seam between the packet layer (server/) and the login flow (flow/). The server decodes,
 * authenticates and deduplicates packets, then hands a LoginRequest to the flow of the matching
 * server section; the flow answers with a LoginOutcome that the server encodes.
 */

export interface LoginRequest {
  username: string;
  /** PAP User-Password, unhidden; undefined when absent or undecodable (see passwordError). */
  password?: string;
  passwordError?: 'missing' | 'undecodable';
  /**
   * No User-Password, but MS-CHAP-Challenge and MS-CHAP2-Response (RFC 2548) in `raw`: only an
   * upstream RADIUS primary can check these credentials.
   */
  msChapV2?: boolean;
  /** Access-Challenge State echoed by the NAS. */
  state?: Uint8Array;
  /** Source address of the NAS (the RADIUS client). */
  nasIp: string;
  /** Name of the configured RADIUS client that sent it (admission to primary checks is per client). */
  client?: string;
  /**
   * This Access-Request's identity (server/login-id.ts): the same for a retransmit or the same
   * packet sent to another relay, different for any other login. The edge joins pushes by it.
   */
  loginId: string;
  nasIdentifier?: string;
  /** The places an end user's IP can come from; `client_ip_attr` says which one the flow uses. */
  callingStationId?: string;
  paloAltoClientSourceIp?: string;
  framedIpAddress?: string;
  /**
   * The decoded request, for primaries that proxy it (upstream RADIUS, MS-CHAPv2). The flow lets go
   * of it once it asks the edge: the primary check is over by then, and a login waiting on a push
   * must not keep the datagram.
   */
  raw?: unknown;
}

/** A decision for the NAS: what the server encodes into the reply. */
export type LoginAnswer =
  | {
      code: 'accept';
      replyMessage?: string;
      /** Pass-through attributes from the primary's Access-Accept. */
      attributes?: ReadonlyArray<RawAttribute>;
    }
  | {
      code: 'reject';
      replyMessage: string;
      /** From the primary's Access-Reject (MS-CHAP-Error must reach the NAS). */
      attributes?: ReadonlyArray<RawAttribute>;
    }
  | {
      code: 'challenge';
      replyMessage: string;
      state: Uint8Array;
      /** From the upstream primary's own Access-Challenge (Prompt, Session-Timeout …). */
      attributes?: ReadonlyArray<RawAttribute>;
    };

export type LoginOutcome =
  | LoginAnswer
  /** No answer at all: the NAS retransmits later (every primary check slot of its client is taken). */
  | { code: 'drop'; reason: 'primary_busy' };

export interface LoginFlow {
  handle(req: LoginRequest): Promise<LoginOutcome>;
}
