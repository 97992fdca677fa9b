import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { type GateCall, GateCore } from '../../src/coordination/gate-core.ts';
import type { GateLimits } from '../../src/coordination/limits.ts';

/** The gate logic on a real Durable Object SQLite store, with a controllable call and clock. */
function inGate<R>(name: string, body: (core: GateCore<string>, sql: SqlStorage) => Promise<R>): Promise<R> {
  return runInDurableObject(env.USER_GATE.getByName(name), (_instance, state) =>
    body(new GateCore<string>(state.storage.sql), state.storage.sql),
  );
}

function deferred() {
  let resolve!: (v: string) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const limits: GateLimits = { push_per_window: 3, passcode_failures_per_window: 2, window_seconds: 600 };
const push = (key: string, now: number): GateCall<string> => ({ key, kind: 'push', limits, now, failed: () => false });
const passcode = (key: string, now: number): GateCall<string> => ({
  key,
  kind: 'passcode_failure',
  limits,
  now,
  failed: (v) => v === 'deny',
});

describe('single flight', () => {
  it('two concurrent calls with one key make one call and both get its result', () =>
    inGate('sf-one', async (core) => {
      const d = deferred();
      let calls = 0;
      const fn = () => {
        calls += 1;
        return d.promise;
      };
      const a = core.run(push('endpoint-1', 1000), fn);
      const b = core.run(push('endpoint-1', 1000), fn);
      d.resolve('allow');
      expect(await Promise.all([a, b])).toEqual([
        { kind: 'ran', value: 'allow', joined: false },
        { kind: 'ran', value: 'allow', joined: true },
      ]);
      expect(calls).toBe(1);
      expect(core.inFlight).toBe(0);
    }));

  it('different keys make separate calls', () =>
    inGate('sf-two', async (core) => {
      const calls: string[] = [];
      const fn = (v: string) => async () => {
        calls.push(v);
        return v;
      };
      const [a, b] = await Promise.all([
        core.run(push('endpoint-1', 1), fn('a')),
        core.run(push('endpoint-2', 1), fn('b')),
      ]);
      expect(calls).toEqual(['a', 'b']);
      expect([a, b]).toEqual([
        { kind: 'ran', value: 'a', joined: false },
        { kind: 'ran', value: 'b', joined: false },
      ]);
    }));

  it('a later call after the first finished makes a new call', () =>
    inGate('sf-seq', async (core) => {
      let calls = 0;
      const fn = async () => `call-${++calls}`;
      await core.run(push('k', 1), fn);
      expect(await core.run(push('k', 2), fn)).toEqual({ kind: 'ran', value: 'call-2', joined: false });
    }));

  it('a failure reaches every joiner and frees the key', () =>
    inGate('sf-err', async (core) => {
      const d = deferred();
      const a = core.run(push('k', 1), () => d.promise);
      const b = core.run(push('k', 1), () => Promise.resolve('never'));
      d.reject(new Error('boom'));
      await expect(a).rejects.toThrow('boom');
      await expect(b).rejects.toThrow('boom');
      expect(await core.run(push('k', 2), async () => 'fresh')).toMatchObject({ value: 'fresh', joined: false });
    }));
});

describe('push limit', () => {
  it('denies the (N+1)th push in the window and lets one through after it', () =>
    inGate('push-limit', async (core) => {
      const fn = async () => 'allow';
      const t = 10_000_000;
      for (let i = 0; i < 3; i++) expect((await core.run(push('k', t + i * 1000), fn)).kind).toBe('ran');
      expect(await core.run(push('k', t + 3000), fn)).toEqual({ kind: 'limited', attempt: 'push' });
      // Denied attempts do not extend the lockout: the window slides off the first push.
      expect(await core.run(push('k', t + 599_999), fn)).toEqual({ kind: 'limited', attempt: 'push' });
      expect((await core.run(push('k', t + 600_000), fn)).kind).toBe('ran');
      expect((await core.run(push('k', t + 600_001), fn)).kind).toBe('limited');
    }));

  it('joined calls are the same push and do not count', () =>
    inGate('push-join', async (core) => {
      const d = deferred();
      const joined = Array.from({ length: 5 }, () => core.run(push('k', 1), () => d.promise));
      d.resolve('allow');
      expect((await Promise.all(joined)).filter((v) => v.kind === 'ran' && v.joined)).toHaveLength(4);
      expect((await core.run(push('k', 2), async () => 'allow')).kind).toBe('ran');
      expect((await core.run(push('k', 3), async () => 'allow')).kind).toBe('ran');
      expect((await core.run(push('k', 4), async () => 'allow')).kind).toBe('limited');
    }));

  it('is kept in Durable Object storage, not in the instance', () =>
    inGate('push-durable', async (core, sql) => {
      for (let i = 0; i < 3; i++) await core.run(push('k', 100 + i), async () => 'allow');
      const fresh = new GateCore<string>(sql);
      expect((await fresh.run(push('k', 200), async () => 'allow')).kind).toBe('limited');
    }));
});

describe('passcode limit', () => {
  it('counts failed passcodes only, and lifts after the window', () =>
    inGate('pass-limit', async (core) => {
      const t = 50_000_000;
      expect((await core.run(passcode('a', t), async () => 'allow')).kind).toBe('ran');
      expect((await core.run(passcode('b', t + 1), async () => 'deny')).kind).toBe('ran');
      expect((await core.run(passcode('c', t + 2), async () => 'allow')).kind).toBe('ran');
      expect((await core.run(passcode('d', t + 3), async () => 'deny')).kind).toBe('ran');
      let called = false;
      const guess = async () => {
        called = true;
        return 'allow';
      };
      expect(await core.run(passcode('e', t + 4), guess)).toEqual({ kind: 'limited', attempt: 'passcode_failure' });
      expect(called).toBe(false);
      expect((await core.run(passcode('e', t + 600_002), guess)).kind).toBe('ran');
    }));

  it('passcode failures and pushes are counted apart', () =>
    inGate('pass-push', async (core) => {
      for (let i = 0; i < 2; i++) await core.run(passcode(`p${i}`, 1), async () => 'deny');
      expect((await core.run(push('k', 2), async () => 'allow')).kind).toBe('ran');
      expect((await core.run(passcode('p9', 3), async () => 'allow')).kind).toBe('limited');
    }));
});
