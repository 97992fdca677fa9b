import { describe, expect, it } from 'vitest';
import { DeadlineQueue } from '../../local-relay/src/edge/deadline.ts';
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
