import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPublicKey } from '@duo-edge/contract/ed25519';
import type { AuthRequest, PreauthRequest } from '@duo-edge/contract/wire';
import pino from 'pino';
import { CircuitBreaker } from '../../local-relay/src/edge/breaker.ts';
import { createEdgeClient, type EdgeClient } from '../../local-relay/src/edge/client.ts';
import type { EdgeTransport } from '../../local-relay/src/edge/http/exchange.ts';
import { createEdgeTransport, type EdgeTransportOptions } from '../../local-relay/src/edge/http/transport.ts';
import { loadIdentity } from '../../local-relay/src/edge/identity.ts';
import { startTestEdge, type TestEdge, type TestEdgeOptions } from './h2-edge.ts';
import { EDGE_KEY, RELAY_A_KEY } from './keys.ts';
import { makeCertificates } from './slapd.ts';

export const PREAUTH: PreauthRequest = { username: 'alice', nas: {}, primary: 'passed' };
/** A push for login number `n` (its login_id tells the edge's requests apart). */
export const authFor = (n: number): AuthRequest => ({
  username: 'alice',
  factor: 'push',
  device: 'auto',
  nas: {},
  primary: 'passed',
  login_id: n.toString(16).padStart(64, '0'),
});

/**
 * Test edges (startTestEdge) with a throwaway CA, and real edge clients over the real transport
 * trusting only that CA. `cleanup` closes everything made since the last call.
 */
export interface TransportHarness {
  edge(o: Omit<TestEdgeOptions, 'tlsDir'>): Promise<TestEdge>;
  client(
    urls: string[],
    o?: Partial<EdgeTransportOptions>,
    deadlines?: { preauthTimeoutMs?: number; authTimeoutMs?: number },
  ): Promise<{ c: EdgeClient; transport: EdgeTransport }>;
  /** Run after each test. */
  cleanup(): Promise<void>;
  /** Run after all. */
  remove(): Promise<void>;
}

export async function transportHarness(): Promise<TransportHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-transport-'));
  await makeCertificates(dir);
  const ca = await readFile(join(dir, 'ca.pem'));
  await writeFile(join(dir, 'relay.key'), RELAY_A_KEY.privateKeyPem);
  const loaded = await loadIdentity('site-a', join(dir, 'relay.key'));
  if (!loaded.ok) throw new Error(loaded.error);
  const identity = loaded.value;
  const edgeKey = (await importPublicKey(EDGE_KEY.publicKey))!;
  const opened: Array<() => Promise<unknown>> = [];
  return {
    async edge(o) {
      const e = await startTestEdge({ ...o, tlsDir: dir });
      opened.push(() => e.close());
      return e;
    },
    async client(urls, o = {}, deadlines = {}) {
      const transport = createEdgeTransport({ maxStreams: 100, tls: { ca }, ...o });
      opened.push(() => transport.close());
      const c = createEdgeClient({
        urls,
        identity,
        edgePublicKeys: [edgeKey],
        preauthTimeoutMs: 10_000,
        authTimeoutMs: 10_000,
        ...deadlines,
        breaker: new CircuitBreaker({ threshold: 1_000 }),
        logger: pino({ level: 'silent' }),
        transport,
      });
      return { c, transport };
    },
    async cleanup() {
      for (const close of opened.splice(0).reverse()) await close();
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
