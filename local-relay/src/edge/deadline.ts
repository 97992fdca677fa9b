/** Called with no event: the listeners here only need to know that the deadline passed. */
type Listener = (event?: unknown) => void;

/**
 * What the transport sees of a call's deadline: whether it has passed, why, and one callback at a
 * time for the stage that is waiting (route, stream, connection). An AbortSignal fits it.
 */
export interface CallSignal {
  readonly aborted: boolean;
  readonly reason: Error | undefined;
  addEventListener(type: 'abort', listener: Listener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: Listener): void;
}

/**
 * A call's deadline: its signal aborts with a TimeoutError (as AbortSignal.timeout's does) after
 * `ms`, and `done()` takes it off its queue the moment the call is over (AbortSignal.timeout
 * would keep its timer and a weak-reference entry alive for the whole timeout after the answer).
 */
export interface Deadline {
  readonly signal: CallSignal;
  done(): void;
}

/**
 * The deadlines of one edge client. Calls of one stage share one timeout, so their deadlines pass
 * in the order the calls started: each timeout value keeps its calls in a list in that order, under
 * one timer for the earliest. A waiting push costs one small record here, not an AbortController,
 * an EventTarget and a timer of its own.
 */
export class DeadlineQueue {
  readonly #lanes = new Map<number, Lane>();
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  start(ms: number): Deadline {
    let lane = this.#lanes.get(ms);
    if (!lane) {
      lane = new Lane(this.#now);
      this.#lanes.set(ms, lane);
    }
    return lane.add(this.#now() + ms);
  }
}

/** A call's place in its lane (a doubly linked list, so an answered call leaves it at once). */
class CallDeadline implements Deadline, CallSignal {
  readonly due: number;
  prev: CallDeadline | undefined;
  next: CallDeadline | undefined;
  aborted = false;
  reason: Error | undefined;
  #lane: Lane | undefined;
  #listener: Listener | undefined;
  /** Only when a second stage listens at once (none does today); the first costs no array. */
  #more: Listener[] | undefined;

  constructor(lane: Lane, due: number) {
    this.#lane = lane;
    this.due = due;
  }

  get signal(): CallSignal {
    return this;
  }

  done(): void {
    this.#lane?.remove(this);
    this.#lane = undefined;
    this.#listener = undefined;
    this.#more = undefined;
  }

  addEventListener(_type: 'abort', listener: Listener): void {
    if (this.#listener === undefined) this.#listener = listener;
    else if (this.#more) this.#more.push(listener);
    else this.#more = [listener];
  }

  removeEventListener(_type: 'abort', listener: Listener): void {
    if (this.#listener === listener) this.#listener = this.#more?.shift();
    else if (this.#more) this.#more = this.#more.filter((l) => l !== listener);
  }

  /** The deadline passed: every listener runs once, as an AbortSignal's `once` listeners do. */
  expire(): void {
    this.#lane = undefined;
    this.aborted = true;
    this.reason = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const first = this.#listener;
    const more = this.#more;
    this.#listener = undefined;
    this.#more = undefined;
    first?.();
    for (const l of more ?? []) l();
  }
}

class Lane {
  readonly #now: () => number;
  #head: CallDeadline | undefined;
  #tail: CallDeadline | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(now: () => number) {
    this.#now = now;
  }

  add(due: number): CallDeadline {
    const d = new CallDeadline(this, due);
    // Same timeout, later start: a due time is never earlier than the tail's (the clock is monotonic).
    d.prev = this.#tail;
    if (this.#tail) this.#tail.next = d;
    else this.#head = d;
    this.#tail = d;
    if (this.#timer === undefined) this.#arm();
    return d;
  }

  remove(d: CallDeadline): void {
    if (d.prev) d.prev.next = d.next;
    else this.#head = d.next;
    if (d.next) d.next.prev = d.prev;
    else this.#tail = d.prev;
    d.prev = undefined;
    d.next = undefined;
    if (!this.#head) this.#disarm();
  }

  /** One timer for the earliest deadline; a removed head leaves it early, and it re-arms then. */
  #arm(): void {
    const head = this.#head;
    if (!head) return;
    this.#timer = setTimeout(() => this.#fire(), Math.max(1, Math.ceil(head.due - this.#now())));
    this.#timer.unref();
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fire(): void {
    this.#timer = undefined;
    const now = this.#now();
    for (let d = this.#head; d && d.due <= now; d = this.#head) {
      this.remove(d);
      d.expire();
    }
    if (this.#head && this.#timer === undefined) this.#arm();
  }
}
