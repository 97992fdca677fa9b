import { REPLY } from '@duo-edge/contract/messages';
import type { Failmode } from '@duo-edge/contract/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayRuntime } from '../../local-relay/src/cli/runtime.ts';
import type { FlowDecision } from '../../local-relay/src/flow/index.ts';
import { CODE_NAME, type LoginResult, RadiusLoginClient } from '../bench/lib/radius-load.ts';
import type { FaultSpec } from '../support/duo-emulator/index.ts';
import {
  type DuoAndEdge,
  type EdgeFault,
  type EdgeFaultProxy,
  type EdgeStage,
  freeTcpPort,
  freeUdpPort,
  STACK_RADIUS_SECRET,
  stackDir,
  startDuoAndEdge,
  startEdgeFaultProxy,
  startRelayInProcess,
  waitFor,
  writeRelayConfig,
} from '../support/stack.ts';

/**
 * The fault-injection matrix: NAS → relay → edge (workerd) → Duo emulator, breaking Duo
 * or the edge on purpose, one cell at a time. Each cell asserts the RADIUS outcome and Reply-Message
 * of the failmode table (docs/failmode.md), that the request got exactly one answer, and that the decision
 * was audited where it was made: D1 for the edge's, the relay's offline journal (then D1, once
 * uploaded) for the relay's. The expectations are written out here, not computed from
 * src/contract/failmode.ts, so a broken rule fails a cell.
 */

type Outcome = 'Accept' | 'Reject';
const SITE = { safe: 'site-a', secure: 'site-b' } as const;
const DUO_FAULTS = ['5xx', '4xx', '429', 'malformed', 'not_json', 'hang', 'reset'] as const;
type DuoFault = (typeof DUO_FAULTS)[number];
const EDGE_FAULTS: EdgeFault[] = [
  'refused',
  'hung',
  '5xx',
  'bad_signature_header',
  'bad_signature_body',
  'oversized_2xx',
  'not_json_2xx',
  'signed_unparseable',
];
/** Answers nobody verifiably sent, or the edge sent in a wire version the relay cannot parse. */
const UNVERIFIED_OR_SKEW: ReadonlySet<EdgeFault> = new Set([
  'bad_signature_header',
  'bad_signature_body',
  'oversized_2xx',
  'not_json_2xx',
  'signed_unparseable',
]);

const ALLOWED = ['Accept', REPLY.failSafeAllowed] as const;
const DENIED_PREAUTH = ['Reject', REPLY.failSecureDenied] as const;
const DENIED_AUTH = ['Reject', REPLY.authFailure] as const;
const DENIED_TIMEOUT = ['Reject', REPLY.authTimeout] as const;

/** Duo faults, decided by the edge (site failmode). `auth_status` exists on site-a (async push) only. */
const DUO_TABLE: Record<'preauth' | 'auth', Record<DuoFault, Record<Failmode, readonly [Outcome, string]>>> = {
  preauth: {
    '5xx': { safe: ALLOWED, secure: DENIED_PREAUTH },
    '4xx': { safe: DENIED_PREAUTH, secure: DENIED_PREAUTH },
    '429': { safe: DENIED_PREAUTH, secure: DENIED_PREAUTH },
    malformed: { safe: ALLOWED, secure: DENIED_PREAUTH },
    not_json: { safe: DENIED_PREAUTH, secure: DENIED_PREAUTH },
    hang: { safe: ALLOWED, secure: DENIED_PREAUTH },
    reset: { safe: ALLOWED, secure: DENIED_PREAUTH },
  },
  auth: {
    '5xx': { safe: ALLOWED, secure: DENIED_AUTH },
    '4xx': { safe: DENIED_AUTH, secure: DENIED_AUTH },
    '429': { safe: DENIED_AUTH, secure: DENIED_AUTH },
    malformed: { safe: ALLOWED, secure: DENIED_AUTH },
    not_json: { safe: DENIED_AUTH, secure: DENIED_AUTH },
    hang: { safe: DENIED_TIMEOUT, secure: DENIED_TIMEOUT },
    reset: { safe: DENIED_AUTH, secure: DENIED_AUTH },
  },
};

/**
 * Edge faults, decided by the relay from its cached site policy. Only an edge that is down (no
 * answer, an unsigned 5xx) may fail open, and only at preauth. An answer the relay cannot verify
 * is the "HTTP 200 but not JSON" row; a signed one it cannot parse is the edge speaking: Reject.
 */
const EDGE_TABLE: Record<EdgeStage, Record<EdgeFault, Record<Failmode, readonly [Outcome, string]>>> = {
  preauth: {
    refused: { safe: ALLOWED, secure: DENIED_PREAUTH },
    hung: { safe: ALLOWED, secure: DENIED_PREAUTH },
    '5xx': { safe: ALLOWED, secure: DENIED_PREAUTH },
    bad_signature_header: { safe: DENIED_PREAUTH, secure: DENIED_PREAUTH },
    bad_signature_body: { safe: DENIED_PREAUTH, secure: DENIED_PREAUTH },
    oversized_2xx: { safe: DENIED_PREAUTH, secure: DENIED_PREAUTH },
    not_json_2xx: { safe: DENIED_PREAUTH, secure: DENIED_PREAUTH },
    signed_unparseable: { safe: DENIED_PREAUTH, secure: DENIED_PREAUTH },
  },
  auth: {
    refused: { safe: DENIED_AUTH, secure: DENIED_AUTH },
    hung: { safe: DENIED_TIMEOUT, secure: DENIED_TIMEOUT },
    '5xx': { safe: DENIED_AUTH, secure: DENIED_AUTH },
    bad_signature_header: { safe: DENIED_AUTH, secure: DENIED_AUTH },
    bad_signature_body: { safe: DENIED_AUTH, secure: DENIED_AUTH },
    oversized_2xx: { safe: DENIED_AUTH, secure: DENIED_AUTH },
    not_json_2xx: { safe: DENIED_AUTH, secure: DENIED_AUTH },
    signed_unparseable: { safe: DENIED_AUTH, secure: DENIED_AUTH },
  },
};

/** What the relay's failure description must say, so a cell cannot pass through another fault. */
const EDGE_FAILURE_TEXT: Record<EdgeFault, RegExp> = {
  refused: /^transport refused/,
  hung: /^transport timeout/,
  '5xx': /^http 500$/,
  bad_signature_header: /^unverifiable answer: decision signature does not verify/,
  bad_signature_body: /^unverifiable answer: decision signature does not verify/,
  oversized_2xx: /^unverifiable answer: response over 65536 bytes/,
  not_json_2xx: /^unverifiable answer: missing decision signature/,
  signed_unparseable: /version skew/,
};

interface Side {
  /** Relay straight to the edge (Duo faults). */
  duoRelay: RelayRuntime;
  duoClient: RadiusLoginClient;
  /** Relay behind the fault proxy (edge faults): short timeouts, since nothing behind it waits for Duo. */
  edgeRelay: RelayRuntime;
  edgeClient: RadiusLoginClient;
  proxy: EdgeFaultProxy;
}

let stack: DuoAndEdge;
const sides = {} as Record<Failmode, Side>;
const decisions: FlowDecision[] = [];
const results: LoginResult[] = [];
const dirs: string[] = [];
let station = 0;

beforeAll(async () => {
  stack = await startDuoAndEdge({ emulator: { pushDelayMs: 100 }, deadlines: 'test' });
  for (const failmode of ['safe', 'secure'] as const) {
    const site = SITE[failmode];
    const relay = async (edgeUrl: string, preauthTimeoutMs: number, authTimeoutMs: number) => {
      const dir = await stackDir('fault-matrix');
      dirs.push(dir);
      const radiusPort = await freeUdpPort();
      const file = await writeRelayConfig(dir, {
        site,
        failmode,
        edgeUrls: [edgeUrl],
        radiusPort,
        preauthTimeoutMs,
        authTimeoutMs,
        // Cells are independent: one cell's outage must not open the breaker for the next.
        breakerThreshold: 1000,
        // Half the cells reject, one after another: the delay (tested on its own) would add ~40 s.
        rejectDelayMs: 0,
      });
      const runtime = await startRelayInProcess(file, { onDecision: (d) => void decisions.push(d) });
      const client = await RadiusLoginClient.open({ port: radiusPort, secret: STACK_RADIUS_SECRET, lanes: 1 });
      return { runtime, client };
    };
    // Above the edge's Duo deadlines (test: preauth 1.5 s, auth 5 s) so the edge decides first.
    const direct = await relay(stack.edgeUrl, 3_000, 8_000);
    const proxy = await startEdgeFaultProxy(stack.edgeUrl);
    const behind = await relay(proxy.url, 1_000, 2_500);
    sides[failmode] = {
      duoRelay: direct.runtime,
      duoClient: direct.client,
      edgeRelay: behind.runtime,
      edgeClient: behind.client,
      proxy,
    };
  }
}, 120_000);

afterAll(async () => {
  for (const side of Object.values(sides)) {
    await side.duoClient?.close();
    await side.edgeClient?.close();
    await side.duoRelay?.stop(0);
    await side.edgeRelay?.stop(0);
    await side.proxy?.close();
  }
  await stack?.close();
  const { rm } = await import('node:fs/promises');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function setDuoFault(spec: FaultSpec): Promise<void> {
  const res = await fetch(`${stack.emulator.url}/_emulator/faults`, { method: 'POST', body: JSON.stringify(spec) });
  expect(res.status).toBe(200);
}

const clearDuoFaults = () => fetch(`${stack.emulator.url}/_emulator/faults`, { method: 'DELETE' });

/** One login from a fresh Calling-Station-Id (the edge joins concurrent pushes per station). */
async function login(client: RadiusLoginClient): Promise<{ result: LoginResult; ip: string; decision: FlowDecision }> {
  const ip = `198.51.100.${++station}`;
  const result = await client.login(
    { username: 'alice', password: 'alice-pass', callingStationId: ip },
    { timeoutMs: 15_000 },
  );
  results.push(result);
  const mine = decisions.filter((d) => d.client_ip === ip);
  expect(mine, 'one relay decision per login').toHaveLength(1);
  return { result, ip, decision: mine[0]! };
}

function expectAnswer(result: LoginResult, [outcome, message]: readonly [Outcome, string]): void {
  expect(result.replies, 'exactly one answer').toHaveLength(1);
  const reply = result.replies[0]!;
  expect({ outcome: CODE_NAME[reply.code], message: reply.replyMessage }).toEqual({ outcome, message });
}

/** The edge's own audit record for this login (D1), found by site, user and station. */
async function edgeRecord(site: string, ip: string, since: number, source: string) {
  let found: Awaited<ReturnType<DuoAndEdge['decisions']>> = [];
  await waitFor(
    async () => {
      const rows = await stack.decisions({ site, user: 'alice', from: since, source });
      found = rows.filter((r) => r.client_ip === ip);
      return found.length > 0;
    },
    5_000,
    `a ${source} audit record for ${ip}`,
  );
  expect(found, 'one audit record').toHaveLength(1);
  return found[0]!;
}

describe.each(['safe', 'secure'] as const)('Duo faults, failmode %s (edge decides)', (failmode) => {
  const site = SITE[failmode];
  const stages = failmode === 'safe' ? (['preauth', 'auth', 'auth_status'] as const) : (['preauth', 'auth'] as const);
  for (const endpoint of stages) {
    const stage = endpoint === 'preauth' ? 'preauth' : 'auth';
    for (const fault of DUO_FAULTS) {
      const expected = DUO_TABLE[stage][fault][failmode];
      it(`${endpoint} ${fault} → ${expected[0]} "${expected[1]}"`, async () => {
        const { duoClient } = sides[failmode];
        stack.emulator.state.clearRequests();
        await setDuoFault({ endpoint, fault });
        const since = Date.now();
        let cell: Awaited<ReturnType<typeof login>>;
        try {
          cell = await login(duoClient);
        } finally {
          await clearDuoFaults();
        }
        expectAnswer(cell.result, expected);
        expect(cell.decision.source).toBe('failmode-edge');
        const rec = await edgeRecord(site, cell.ip, since, 'failmode-edge');
        expect(rec).toMatchObject({ stage, result: expected[0] === 'Accept' ? 'allow' : 'deny' });
        expect(rec.reason.startsWith(expected[1])).toBe(true);
        if (fault === '429' && stage === 'auth') {
          // Duo's clients back off and retry a 429 within the deadline before giving up.
          const hits = stack.emulator.state.requests.filter((r) => r.endpoint === endpoint);
          expect(hits.length).toBeGreaterThan(1);
        }
      });
    }
  }
});

describe.each(['safe', 'secure'] as const)('edge faults, failmode %s (relay decides)', (failmode) => {
  const site = SITE[failmode];
  for (const stage of ['preauth', 'auth'] as const) {
    for (const fault of EDGE_FAULTS) {
      const expected = EDGE_TABLE[stage][fault][failmode];
      it(`${stage} ${fault} → ${expected[0]} "${expected[1]}"`, async () => {
        const { edgeClient, edgeRelay, proxy } = sides[failmode];
        await proxy.set(stage, fault);
        const since = Date.now();
        const failuresBefore = edgeRelay.breaker.consecutiveFailures;
        let cell: Awaited<ReturnType<typeof login>>;
        try {
          cell = await login(edgeClient);
        } finally {
          await proxy.clear();
        }
        expectAnswer(cell.result, expected);
        expect(cell.decision).toMatchObject({ source: 'failmode-relay', stage });
        expect(cell.decision.edge_failure).toMatch(EDGE_FAILURE_TEXT[fault]);
        if (UNVERIFIED_OR_SKEW.has(fault)) {
          // Not an outage: such answers never count towards opening the breaker for everyone.
          expect(edgeRelay.breaker.consecutiveFailures).toBe(failuresBefore);
        }

        // Journalled (fsynced) before the NAS got the answer, then uploaded once the edge is back.
        const pending = edgeRelay.journal.journal.pending().map((r) => r.id);
        expect(pending).toContain(cell.decision.id);
        await edgeRelay.journal.upload();
        const rec = await edgeRecord(site, cell.ip, since, 'failmode-relay');
        expect(rec).toMatchObject({ id: cell.decision.id, stage, result: expected[0] === 'Accept' ? 'allow' : 'deny' });
        if (stage === 'auth' && (fault.startsWith('bad_signature') || fault === 'oversized_2xx')) {
          // The edge did decide (the push was approved); a tampered answer must not become an Accept.
          expect(await edgeRecord(site, cell.ip, since, 'duo')).toMatchObject({ stage: 'auth', result: 'allow' });
        }
      });
    }
  }
});

describe('first start with the edge unreachable (no site policy ever fetched)', () => {
  it('a secure site relay without relay.failmode → Reject "Failmode Secure - ..."', async () => {
    const dir = await stackDir('fault-matrix-first-start');
    dirs.push(dir);
    const radiusPort = await freeUdpPort();
    // Nothing listens there: the edge refuses from the very first call, and state/ is empty.
    const file = await writeRelayConfig(dir, {
      site: SITE.secure,
      edgeUrls: [`http://127.0.0.1:${await freeTcpPort()}`],
      radiusPort,
      breakerThreshold: 1000,
    });
    const relay = await startRelayInProcess(file, { onDecision: (d) => void decisions.push(d), waitForPolicyMs: 0 });
    const client = await RadiusLoginClient.open({ port: radiusPort, secret: STACK_RADIUS_SECRET, lanes: 1 });
    try {
      const cell = await login(client);
      expectAnswer(cell.result, DENIED_PREAUTH);
      expect(relay.policy.current()).toEqual({ failmode: 'secure', from: 'default' });
      expect(cell.decision).toMatchObject({ source: 'failmode-relay', stage: 'preauth', result: 'deny' });
      expect(cell.decision.edge_failure).toMatch(/^transport refused/);
      // Audited where it was decided: the relay's journal, waiting for an edge it never reached.
      expect(relay.journal.journal.pending().map((r) => r.id)).toContain(cell.decision.id);
      expect(client.unmatched).toBe(0);
    } finally {
      await client.close();
      await relay.stop(0);
    }
  });
});

describe('every request', () => {
  it('got exactly one answer, and nothing else arrived', async () => {
    await new Promise((r) => setTimeout(r, 500));
    expect(results.length).toBe(2 * 7 * 2 + 7 + 2 * 2 * EDGE_FAULTS.length + 1);
    expect(results.filter((r) => r.replies.length !== 1)).toEqual([]);
    for (const s of Object.values(sides)) {
      expect(s.duoClient.unmatched).toBe(0);
      expect(s.edgeClient.unmatched).toBe(0);
    }
  });
});
