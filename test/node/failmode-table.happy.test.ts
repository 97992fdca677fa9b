import {
  type CallFailure,
  classifyFailure,
  decideOnFailure,
  type FailureKind,
  isFailOpenEligible,
  type Stage,
} from '@duo-edge/contract/failmode';
import { REPLY } from '@duo-edge/contract/messages';
import { describe, expect, it } from 'vitest';
import type { EdgeFailure } from '../../local-relay/src/edge/result.ts';
import { callFailure as edgeCallFailure } from '../../local-relay/src/flow/edge-failure.ts';
import { callFailure as duoCallFailure } from '../../src/decision/failure.ts';
import type { DuoError } from '../../src/duo/result.ts';

/**
 * The failmode table (docs/failmode.md), row by row, for both failmodes and both stages, with and
 * without primary auth. Each cell is written out, not computed, so the table is the oracle.
 */

type Cell = readonly ['allow' | 'deny', string];
const OPEN: Cell = ['allow', REPLY.failSafeAllowed];
const PRE_CLOSED: Cell = ['deny', REPLY.failSecureDenied];
const AUTH_CLOSED: Cell = ['deny', REPLY.authFailure];
const AUTH_TIMEOUT: Cell = ['deny', REPLY.authTimeout];

// [stage, failure, eligible, safe, secure] with primary auth passed
const TABLE: ReadonlyArray<readonly [Stage, FailureKind, boolean, Cell, Cell]> = [
  // preauth: network error, timeout, edge unreachable -> eligible
  ['preauth', 'transport', true, OPEN, PRE_CLOSED],
  ['preauth', 'timeout', true, OPEN, PRE_CLOSED],
  // any: Duo HTTP 5xx -> eligible
  ['preauth', 'http5xx', true, OPEN, PRE_CLOSED],
  ['auth', 'http5xx', true, OPEN, AUTH_CLOSED],
  // any: JSON valid but fields missing/invalid -> eligible
  ['preauth', 'malformed', true, OPEN, PRE_CLOSED],
  ['auth', 'malformed', true, OPEN, AUTH_CLOSED],
  // any: Duo 4xx / stat FAIL with 4xx -> not eligible
  ['preauth', 'http4xx', false, PRE_CLOSED, PRE_CLOSED],
  ['auth', 'http4xx', false, AUTH_CLOSED, AUTH_CLOSED],
  // any: HTTP 200 but body not JSON -> not eligible
  ['preauth', 'not_json', false, PRE_CLOSED, PRE_CLOSED],
  ['auth', 'not_json', false, AUTH_CLOSED, AUTH_CLOSED],
  // auth: network error / timeout after preauth succeeded -> not eligible
  ['auth', 'transport', false, AUTH_CLOSED, AUTH_CLOSED],
  ['auth', 'timeout', false, AUTH_TIMEOUT, AUTH_TIMEOUT],
  // relay: a 2xx from the edge it cannot verify -> the "200 but not JSON" row, never an outage
  ['preauth', 'unverified', false, PRE_CLOSED, PRE_CLOSED],
  ['auth', 'unverified', false, AUTH_CLOSED, AUTH_CLOSED],
  // relay: a correctly signed answer it cannot parse -> the edge speaking, Reject
  ['preauth', 'version_skew', false, PRE_CLOSED, PRE_CLOSED],
  ['auth', 'version_skew', false, AUTH_CLOSED, AUTH_CLOSED],
];

describe('failmode table', () => {
  it('covers every failure kind at both stages', () => {
    const kinds: FailureKind[] = [
      'transport',
      'timeout',
      'http5xx',
      'malformed',
      'http4xx',
      'not_json',
      'unverified',
      'version_skew',
    ];
    for (const stage of ['preauth', 'auth'] as const) {
      for (const kind of kinds) expect(TABLE.some(([s, k]) => s === stage && k === kind)).toBe(true);
    }
  });

  it.each(
    TABLE.flatMap(([stage, failure, eligible, safe, secure]) =>
      (['safe', 'secure'] as const).flatMap((failmode) =>
        [true, false].map((primaryPassed) => {
          const cell = failmode === 'safe' ? safe : secure;
          // Without primary auth fail-open is refused: an open cell becomes the closed one.
          const closed = stage === 'preauth' ? PRE_CLOSED : failure === 'timeout' ? AUTH_TIMEOUT : AUTH_CLOSED;
          const expected = !primaryPassed && cell[0] === 'allow' ? closed : cell;
          return { stage, failure, failmode, primaryPassed, eligible, expected };
        }),
      ),
    ),
  )(
    '$stage $failure, $failmode, primary passed $primaryPassed',
    ({ stage, failure, failmode, primaryPassed, eligible, expected }) => {
      expect(isFailOpenEligible(stage, failure)).toBe(eligible);
      expect(decideOnFailure({ failmode, stage, failure, primaryPassed })).toEqual({
        result: expected[0],
        message: expected[1],
        eligible,
      });
    },
  );
});

// How a failed call becomes a row of the table: the contract's one classification.
const CLASSIFIED: ReadonlyArray<readonly [CallFailure, FailureKind]> = [
  [{ outcome: 'no_answer', timedOut: false }, 'transport'],
  [{ outcome: 'no_answer', timedOut: true }, 'timeout'],
  [{ outcome: 'http_status', status: 200 }, 'http4xx'], // Duo's stat FAIL under a 200
  [{ outcome: 'http_status', status: 400 }, 'http4xx'],
  [{ outcome: 'http_status', status: 429 }, 'http4xx'],
  [{ outcome: 'http_status', status: 499 }, 'http4xx'],
  [{ outcome: 'http_status', status: 500 }, 'http5xx'],
  [{ outcome: 'http_status', status: 503 }, 'http5xx'],
  [{ outcome: 'not_json' }, 'not_json'],
  [{ outcome: 'malformed' }, 'malformed'],
  [{ outcome: 'unverifiable' }, 'unverified'],
  [{ outcome: 'version_skew' }, 'version_skew'],
];

// Each side only translates its transport's errors; written out per error, not computed.
const DUO: ReadonlyArray<readonly [DuoError, FailureKind]> = [
  [{ kind: 'transport', reason: 'network', detail: 'ECONNREFUSED' }, 'transport'],
  [{ kind: 'transport', reason: 'timeout', detail: 'deadline reached' }, 'timeout'],
  [{ kind: 'http5xx', status: 502 }, 'http5xx'],
  [{ kind: 'http4xx', status: 401, code: 40101 }, 'http4xx'],
  [{ kind: 'http4xx', status: 200, code: 40002 }, 'http4xx'],
  [{ kind: 'not_json', status: 200 }, 'not_json'],
  [{ kind: 'malformed', detail: 'preauth: invalid result' }, 'malformed'],
];

const EDGE: ReadonlyArray<readonly [EdgeFailure, FailureKind]> = [
  [{ kind: 'transport', cause: 'refused' }, 'transport'],
  [{ kind: 'transport', cause: 'reset' }, 'transport'],
  [{ kind: 'transport', cause: 'breaker_open' }, 'transport'],
  [{ kind: 'transport', cause: 'timeout' }, 'timeout'],
  // Unsigned 5xx: whatever stands in front of a down edge, not the edge: no answer, not http5xx.
  [{ kind: 'http', status: 500 }, 'transport'],
  [{ kind: 'http', status: 503 }, 'transport'],
  [{ kind: 'http', status: 401, code: 'unknown_key' }, 'http4xx'],
  [{ kind: 'http', status: 409, code: 'site_misconfigured' }, 'http4xx'],
  [{ kind: 'unverified', detail: 'no decision signature' }, 'unverified'],
  [{ kind: 'version_skew', detail: 'unknown result' }, 'version_skew'],
];

describe('failure classification', () => {
  it.each(CLASSIFIED)('%o is %s', (failure, kind) => {
    expect(classifyFailure(failure)).toBe(kind);
  });

  it.each(DUO)('Duo %o is %s', (e, kind) => {
    expect(classifyFailure(duoCallFailure(e))).toBe(kind);
  });

  it.each(EDGE)('edge %o is %s', (f, kind) => {
    expect(classifyFailure(edgeCallFailure(f))).toBe(kind);
  });
});
