import { describe, expect, it } from 'vitest';
import { runLiveFuzz } from '../fuzz/live-fuzz.ts';

const SEED = 20_260_901;

describe('live fuzz against a relay child process', () => {
  it('3000 mutants: no crash, no unhandled rejection, no Accept without Message-Authenticator and password', async () => {
    const r = await runLiveFuzz({ seed: SEED, iterations: 3_000, rate: 1_500 });
    expect(r.violations).toEqual([]);
    expect(r.crashes).toBe(0);
    expect(r.unhandledRejections + r.uncaughtExceptions).toBe(0);
    expect(r.statusServerAnswered).toBe(true);
    // Not vacuous: entitled logins were sent and accepted, and the rest was refused or dropped.
    expect(r.entitled.logins).toBeGreaterThan(50);
    expect(r.replies.accept).toBeGreaterThan(0);
    expect(r.replies.reject).toBeGreaterThan(0);
    expect(r.serverCounters.bad_message_authenticator).toBeGreaterThan(0);
    expect(r.serverCounters.missing_message_authenticator).toBeGreaterThan(0);
    expect(r.serverCounters.malformed).toBeGreaterThan(0);
    expect(r.serverCounters.duplicates_replayed).toBeGreaterThan(0);
  });

  it('the oracle catches a relay that accepts unsigned packets', async () => {
    const r = await runLiveFuzz({ seed: SEED, iterations: 1_000, rate: 1_500, broken: true, maxViolations: 5 });
    expect(r.crashes).toBe(0);
    expect(r.violations.map((v) => v.kind)).toContain('accept_without_entitlement');
    expect(r.violationCount).toBeGreaterThan(10);
  });
});
