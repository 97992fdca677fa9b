import { z } from 'zod';
import type { DuoIntegration } from '../../../src/duo/api.ts';
import { TransactionStore } from './transactions.ts';

export const DEMO_INTEGRATION: DuoIntegration = {
  ikey: 'DIDEMOINTEGRATION000',
  skey: 'demoSecretKeyDemoSecretKeyDemoSecretKey0',
  apiHost: 'api-demo.duosecurity.com',
};

export interface EmulatorOptions {
  integrations?: DuoIntegration[];
  /** The emulator's clock (epoch ms); skew checks and ping use it. */
  now?: () => number;
  /** When alice's and bob's pushes are answered. Default 300. */
  pushDelayMs?: number;
  /** When grace's push times out. Default 2000. */
  pushTimeoutMs?: number;
  /** false: pushes wait for approve(txid) / deny(txid) (a human page), expiring after Duo's 60 s. */
  autoAnswerPushes?: boolean;
}

export const ENDPOINTS = ['preauth', 'auth', 'auth_status', 'check', 'ping'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export const faultSpec = z.strictObject({
  endpoint: z.enum(ENDPOINTS),
  fault: z.enum(['ok', '5xx', '4xx', '429', 'malformed', 'not_json', 'hang', 'reset']),
  delay_ms: z.number().int().min(0).max(600_000).optional(),
});
export type FaultSpec = z.infer<typeof faultSpec>;

export type SignatureMatch = 'v2-sha1' | 'v2-sha512' | 'v5';

export interface RecordedRequest {
  endpoint: string;
  method: string;
  /** Parameters as Duo received them; a passcode is recorded as `[redacted]`. */
  params: Record<string, string[]>;
  /** How the request was signed, `unsigned` for ping, or `rejected: <why>` with the answer sent. */
  signature: SignatureMatch | 'unsigned' | `rejected: ${string}`;
  time: number;
}

export class EmulatorState {
  readonly integrations: ReadonlyMap<string, DuoIntegration>;
  readonly now: () => number;
  readonly pushDelayMs: number;
  readonly pushTimeoutMs: number;
  readonly autoAnswerPushes: boolean;
  readonly transactions: TransactionStore;
  readonly faults = new Map<Endpoint, FaultSpec>();
  requests: RecordedRequest[] = [];
  /** Pushes sent per username since the last reset. */
  pushes = new Map<string, number>();

  constructor(options: EmulatorOptions = {}) {
    this.integrations = new Map((options.integrations ?? [DEMO_INTEGRATION]).map((i) => [i.ikey, i]));
    this.now = options.now ?? Date.now;
    this.pushDelayMs = options.pushDelayMs ?? 300;
    this.pushTimeoutMs = options.pushTimeoutMs ?? 2000;
    this.autoAnswerPushes = options.autoAnswerPushes ?? true;
    this.transactions = new TransactionStore(this.now);
  }

  approve = (txid: string): boolean => this.transactions.approve(txid);
  deny = (txid: string): boolean => this.transactions.deny(txid);

  countPush(username: string): void {
    this.pushes.set(username, (this.pushes.get(username) ?? 0) + 1);
  }

  clearRequests(): void {
    this.requests = [];
    this.pushes = new Map();
  }

  close(): void {
    this.transactions.close();
  }
}
