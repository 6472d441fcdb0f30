// An inbox of messages from a peer: taps see every message as it arrives (and may claim it), the rest is
// buffered until a test consumes it with next() or async iteration, so no message is lost to a race between
// "it arrived" and "the test started waiting for it".

export class InboxClosedError extends Error {
  override name = 'InboxClosedError';
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

interface Waiter<T> {
  predicate: (msg: T) => boolean;
  resolve: (msg: T) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** A tap returns true to claim a message (it is then not buffered for next()). */
export type Tap<T> = (msg: T) => boolean | void;

export class Inbox<T> {
  private readonly buffered: T[] = [];
  private readonly waiters = new Set<Waiter<T>>();
  private readonly taps = new Set<Tap<T>>();
  private closedWith: Error | null = null;
  /** Every message ever seen, newest last, bounded: for failure diagnostics. */
  readonly recent: T[] = [];
  dropped = 0;

  constructor(
    private readonly maxBuffered = 10_000,
    private readonly describeClose: () => string = () => '',
  ) {}

  push(msg: T): void {
    this.recent.push(msg);
    if (this.recent.length > 50) this.recent.shift();
    for (const tap of this.taps) if (tap(msg) === true) return;
    for (const w of this.waiters) {
      if (w.predicate(msg)) {
        this.waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(msg);
        return;
      }
    }
    this.buffered.push(msg);
    if (this.buffered.length > this.maxBuffered) {
      this.buffered.shift();
      this.dropped++;
    }
  }

  tap(fn: Tap<T>): () => void {
    this.taps.add(fn);
    return () => this.taps.delete(fn);
  }

  /** The first unconsumed message matching `predicate` (already buffered or yet to come), consumed. */
  next(predicate: (msg: T) => boolean = () => true, timeoutMs = 15_000, what = 'message'): Promise<T> {
    const i = this.buffered.findIndex(predicate);
    if (i >= 0) return Promise.resolve(this.buffered.splice(i, 1)[0] as T);
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<T> = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          reject(new TimeoutError(`no ${what} within ${timeoutMs} ms${this.diagnostics()}`));
        }, timeoutMs),
      };
      this.waiters.add(w);
    });
  }

  /** Drops buffered messages matching `predicate` (e.g. stale ICE states before a new phase); returns how many. */
  discard(predicate: (msg: T) => boolean = () => true): number {
    let n = 0;
    for (let i = this.buffered.length - 1; i >= 0; i--) {
      if (predicate(this.buffered[i] as T)) {
        this.buffered.splice(i, 1);
        n++;
      }
    }
    return n;
  }

  /** Ends every pending and future wait (the sender is gone); buffered messages stay consumable. */
  close(reason: string): void {
    if (this.closedWith) return;
    this.closedWith = new InboxClosedError(`${reason}${this.diagnostics()}`);
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(this.closedWith);
    }
    this.waiters.clear();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      try {
        yield await this.next(() => true, 2 ** 31 - 1);
      } catch (err) {
        if (err instanceof InboxClosedError) return;
        throw err;
      }
    }
  }

  private diagnostics(): string {
    const last = this.recent.slice(-10).map((m) => JSON.stringify(m).slice(0, 300));
    const extra = this.describeClose();
    return `\n  last messages: ${last.length ? last.join('\n    ') : '(none)'}${extra ? '\n' + extra : ''}`;
  }
}
