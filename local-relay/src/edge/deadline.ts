/**
 * A call's deadline: its signal aborts with a TimeoutError (as AbortSignal.timeout's does) after
 * `ms`, and `done()` clears the timer the moment the call is over. AbortSignal.timeout would keep
 * its timer (and a weak-reference entry) alive for the whole timeout after an answer came back —
 * for a push answered in seconds, minutes of garbage per login.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  done(): void;
}

export function deadline(ms: number): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    ms,
  );
  timer.unref();
  return { signal: controller.signal, done: () => clearTimeout(timer) };
}
