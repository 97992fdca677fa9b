import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { HEADER } from '@duo-edge/contract/signing';
import { authResponseSchema, healthResponseSchema, preauthResponseSchema } from '@duo-edge/contract/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../support/duo-emulator/index.ts';
import { edgeTestBindings } from '../support/edge-bindings.ts';
import { type RunningEdge, startEdge } from '../support/edge-harness.ts';
import { EDGE_KEY, RELAY_A_KEY } from '../support/keys.ts';
import { newLoginId, relayClient, verifyDecisionSignature } from '../support/relay-signer.ts';

let emulator: RunningEmulator;
let edge: RunningEdge;
let persistDir: string;

beforeAll(async () => {
  emulator = await startEmulator();
  persistDir = await mkdtemp(join(tmpdir(), 'duo-edge-e2e-'));
  edge = await startEdge({ bindings: edgeTestBindings(emulator.url), persistDir });
});

afterAll(async () => {
  await edge?.stop();
  await emulator?.close();
  if (persistDir) await rm(persistDir, { recursive: true, force: true });
});

describe('the real worker behind the edge harness', () => {
  it('listens on loopback and answers health with Duo reachable', async () => {
    expect(edge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${edge.url}/v1/health`);
    expect(res.status).toBe(200);
    expect(healthResponseSchema.parse(await res.json()).duo.reachable).toBe(true);
  });

  it('serves a signed preauth and auth against the Duo emulator, with verifiable decisions', async () => {
    const relay = relayClient({ fetch: (r) => fetch(r), baseUrl: edge.url, site: 'site-a', key: RELAY_A_KEY });
    const pre = await relay.preauth({ username: 'alice', primary: 'passed' });
    expect(pre.status).toBe(200);
    expect(preauthResponseSchema.parse(pre.json)).toMatchObject({ result: 'auth', source: 'duo' });
    const signature = pre.headers.get(HEADER.decisionSignature);
    expect(
      await verifyDecisionSignature({
        edgePublicKey: EDGE_KEY.publicKey,
        path: '/v1/preauth',
        nonce: pre.nonce,
        body: pre.bytes,
        signature,
      }),
    ).toBe(true);

    const auth = await relay.auth({ username: 'alice', factor: 'push', primary: 'passed', login_id: newLoginId() });
    expect(authResponseSchema.parse(auth.json)).toMatchObject({ result: 'allow', source: 'duo' });
  });

  it('applied the D1 migrations to the local database the worker opens', async () => {
    const dir = join(persistDir, 'v3/d1/miniflare-D1DatabaseObject');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
    expect(files).toHaveLength(1);
    const db = new DatabaseSync(join(dir, files[0] ?? ''), { readOnly: true });
    try {
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all()
        .map((r) => r.name);
      expect(tables).toContain('decisions');
    } finally {
      db.close();
    }
  });
});
