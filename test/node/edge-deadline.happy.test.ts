import { describe, expect, it } from 'vitest';
import { type Deadline, DeadlineQueue } from '../../local-relay/src/edge/deadline.ts';
import { transportFailure } from '../../local-relay/src/edge/transport.ts';

describe('edge call deadline', () => {
  it('aborts with a TimeoutError, which the relay classifies as a timeout', async () => {
    const { signal } = new DeadlineQueue().start(5);
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    expect((signal.reason as Error).name).toBe('TimeoutError');
    expect(transportFailure(signal.reason)).toMatchObject({ kind: 'transport', cause: 'timeout' });
  });

  it('a call over before its deadline stops the timer: the signal never fires afterwards', async () => {
    const due = new DeadlineQueue().start(5);
    due.done();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(due.signal.aborted).toBe(false);
  });
});

describe('the deadline queue of an edge client', () => {
  /** Resolves with the time the signal aborted (performance.now()). */
  const abortedAt = (d: Deadline) =>
    new Promise<number>((resolve) => d.signal.addEventListener('abort', () => resolve(performance.now())));

  it('calls started one after another each time out their own timeout after their start, in that order', async () => {
    const queue = new DeadlineQueue();
    const started: number[] = [];
    const fired: Array<Promise<number>> = [];
    for (let i = 0; i < 3; i++) {
      started.push(performance.now());
      const d = queue.start(60);
      fired.push(abortedAt(d));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const at = await Promise.all(fired);
    // Never early (timers round to whole milliseconds); each after the one started before it.
    for (const [i, t] of at.entries()) expect(t - started[i]!).toBeGreaterThanOrEqual(59);
    expect(at[0]).toBeLessThan(at[1]!);
    expect(at[1]).toBeLessThan(at[2]!);
  });

  it('an answered call leaves the queue: its deadline never fires, the next one still does', async () => {
    const queue = new DeadlineQueue();
    const answered = queue.start(20);
    const heard: string[] = [];
    answered.signal.addEventListener('abort', () => heard.push('answered'));
    const waiting = queue.start(20);
    answered.done();
    await abortedAt(waiting);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(answered.signal.aborted).toBe(false);
    expect(heard).toEqual([]);
    expect(waiting.signal.aborted).toBe(true);
    expect((waiting.signal.reason as Error).name).toBe('TimeoutError');
  });

  it('a short timeout is not held up behind a longer one started before it', async () => {
    const queue = new DeadlineQueue();
    const long = queue.start(2_000);
    const start = performance.now();
    const short = queue.start(20);
    const at = await abortedAt(short);
    expect(at - start).toBeGreaterThanOrEqual(19);
    expect(long.signal.aborted).toBe(false);
    long.done();
  });

  it('a removed listener is not called; the one listening when the deadline passes is, once', async () => {
    const queue = new DeadlineQueue();
    const d = queue.start(10);
    const heard: string[] = [];
    const route = () => heard.push('route');
    d.signal.addEventListener('abort', route);
    d.signal.removeEventListener('abort', route);
    d.signal.addEventListener('abort', () => heard.push('stream'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heard).toEqual(['stream']);
  });
});
