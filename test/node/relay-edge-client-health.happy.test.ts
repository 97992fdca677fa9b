import { importPrivateKeyPem, importPublicKey } from '@duo-edge/contract/ed25519';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../local-relay/src/edge/breaker.ts';
import { createEdgeClient } from '../../local-relay/src/edge/client.ts';
import type { EdgeRequest } from '../../local-relay/src/edge/http/exchange.ts';
import { fakeTransport } from '../support/fake-transport.ts';
import { EDGE_KEY, RELAY_A_KEY } from '../support/keys.ts';

const HEALTH = { ok: true, version: 'test', duo: { reachable: true, checked_at: null } };

describe('the breaker probe (health) through the edge client', () => {
  it('tries the URLs in order within one deadline, which is over once the probe is', async () => {
    const privateKey = (await importPrivateKeyPem(RELAY_A_KEY.privateKeyPem))!;
    const edgeKey = (await importPublicKey(EDGE_KEY.publicKey))!;
    const seen: EdgeRequest[] = [];
    const transport = fakeTransport((req) => {
      seen.push(req);
      return req.url.hostname === 'down.example' ? { status: 503 } : { status: 200, body: JSON.stringify(HEALTH) };
    });
    const c = createEdgeClient({
      urls: ['https://down.example/', 'https://up.example'],
      identity: { site: 'site-a', publicKey: RELAY_A_KEY.publicKey, privateKey },
      edgePublicKeys: [edgeKey],
      preauthTimeoutMs: 40,
      authTimeoutMs: 40,
      breaker: new CircuitBreaker({ threshold: 1 }),
      logger: pino({ level: 'silent' }),
      transport,
    });
    expect(await c.health()).toEqual({ kind: 'ok', value: HEALTH });
    expect(seen.map((r) => r.url.href)).toEqual(['https://down.example/v1/health', 'https://up.example/v1/health']);
    // Both tries shared the probe's deadline; the probe is over, so it never fires.
    expect(seen[0]!.signal).toBe(seen[1]!.signal);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(seen[0]!.signal.aborted).toBe(false);
  });
});
