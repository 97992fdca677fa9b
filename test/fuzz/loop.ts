/**
 * The loop every in-process fuzz runs: mutant after mutant by index until the count or the time
 * is up; each mutant checked, a throw counted as a violation, the first `maxViolations` of them
 * kept in full with what rebuilds them (seed, index, the mutators applied, the bytes).
 */

export interface FuzzBound {
  seed: number;
  iterations?: number;
  /** Stops at whichever of iterations / seconds comes first; one of them is required. */
  seconds?: number;
  /** Stop collecting details after this many violations (counting continues). */
  maxViolations?: number;
}

export interface Violation {
  kind: string;
  seed: number;
  index: number;
  ops: string[];
  detail: string;
  hex: string;
}

export interface FuzzTotals {
  mutants: number;
  seconds: number;
  violationCount: number;
  violations: Violation[];
}

export type Fail = (kind: string, detail: string) => void;

export function fuzzLoop<M extends { bytes: Uint8Array; ops: string[] }>(
  bound: FuzzBound,
  totals: FuzzTotals,
  generate: (index: number) => M,
  check: (mutant: M, index: number, fail: Fail) => void,
): void {
  if (bound.iterations === undefined && bound.seconds === undefined) throw new Error('iterations or seconds required');
  const maxViolations = bound.maxViolations ?? 20;
  const started = performance.now();
  const deadline = bound.seconds === undefined ? Number.POSITIVE_INFINITY : started + bound.seconds * 1000;
  const limit = bound.iterations ?? Number.POSITIVE_INFINITY;
  for (let index = 0; index < limit; index++) {
    if ((index & 0xff) === 0 && performance.now() > deadline) break;
    const mutant = generate(index);
    totals.mutants++;
    const fail: Fail = (kind, detail) => {
      totals.violationCount++;
      if (totals.violations.length < maxViolations) {
        const hex = Buffer.from(mutant.bytes).toString('hex');
        totals.violations.push({ kind, seed: bound.seed, index, ops: mutant.ops, detail, hex });
      }
    };
    try {
      check(mutant, index, fail);
    } catch (error) {
      fail('throw', String((error as Error)?.stack ?? error));
    }
  }
  totals.seconds = (performance.now() - started) / 1000;
}
