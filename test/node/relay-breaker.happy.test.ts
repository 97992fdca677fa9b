import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from '../../local-relay/src/edge/breaker.ts';
import { startHealthProbe } from '../../local-relay/src/edge/health-probe.ts';

describe('circuit breaker', () => {
  it('opens after the threshold of consecutive transport failures, a success resets the count', () => {
    let now = 0;
    const changes: string[] = [];
    const b = new CircuitBreaker({ threshold: 3, now: () => now, onChange: (s, at) => changes.push(`${s}@${at}`) });
    b.recordTransportFailure();
    b.recordTransportFailure();
    b.recordSuccess();
    b.recordTransportFailure();
    b.recordTransportFailure();
    expect(b.allows()).toBe(true);
    now = 42;
    b.recordTransportFailure();
    expect(b.state).toBe('open');
    expect(b.allows()).toBe(false);
    now = 50;
    b.recordSuccess();
    expect(b.state).toBe('closed');
    expect(changes).toEqual(['open@42', 'closed@50']);
  });

  it('rejects a threshold below 1', () => {
    expect(() => new CircuitBreaker({ threshold: 0 })).toThrow();
  });
});

describe('health probe', () => {
  it('probes only while open and closes the breaker when the edge answers', async () => {
    vi.useFakeTimers();
    try {
      const b = new CircuitBreaker({ threshold: 1 });
      let up = false;
      let probes = 0;
      const probe = startHealthProbe({
        breaker: b,
        intervalMs: 5000,
        logger: pino({ level: 'silent' }),
        client: {
          async health() {
            probes++;
            return up ? { kind: 'ok', value: null } : { kind: 'transport', cause: 'refused' };
          },
        },
      });
      await vi.advanceTimersByTimeAsync(5000);
      expect(probes).toBe(0);
      b.recordTransportFailure();
      await vi.advanceTimersByTimeAsync(5000);
      expect(probes).toBe(1);
      expect(b.state).toBe('open');
      up = true;
      await vi.advanceTimersByTimeAsync(5000);
      expect(b.state).toBe('closed');
      probe.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
