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
  /** Access-Challenge State echoed by the NAS. */
  state?: Uint8Array;
  /** Source address of the NAS (the RADIUS client). */
  nasIp: string;
  nasIdentifier?: string;
  callingStationId?: string;
  /** Value of the configured client_ip_attr, if valid. */
  clientIp?: string;
  /** The decoded request, for primaries that proxy it (upstream RADIUS, MS-CHAPv2). */
  raw?: unknown;
}

export type LoginOutcome =
  | {
      code: 'accept';
      replyMessage?: string;
      /** Pass-through attributes from the primary's Access-Accept. */
      attributes?: ReadonlyArray<RawAttribute>;
    }
  | { code: 'reject'; replyMessage: string }
  | { code: 'challenge'; replyMessage: string; state: Uint8Array };

export interface LoginFlow {
  handle(req: LoginRequest): Promise<LoginOutcome>;
}
