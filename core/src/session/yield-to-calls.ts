// While a call is up, session streams yield the relay to it (issue #11: media must not queue behind files).
// Every session stream gets a YieldPacer (yield-pacer.ts) when a call starts connecting and loses it when the
// last call ends, so a file sent meanwhile keeps only what the link drains in a few tens of ms in flight and
// the call's frames wait behind none of it; with no call, files take the path exactly as before. The pacer
// acts on relay links only (stream.ts): a direct data channel does not share the relay's links.
import type { StreamPacer } from './stream.js';
import { YieldPacer } from './yield-pacer.js';

/** What this needs of a call (core/src/call Call fits). */
export interface YieldCall {
  readonly state: string;
  on(event: 'state', listener: (value: { state: string }) => void): () => void;
}

/** What this needs of the call manager (core/src/call CallManager fits). */
export interface YieldCalls {
  on(event: 'call', listener: (call: YieldCall) => void): () => void;
}

/** What this needs of a session stream (ReliableStream fits). */
export interface YieldStream {
  setPacer(pacer: StreamPacer | null): void;
}

/** Call states in which media flows or is being connected. */
const LIVE = new Set(['connecting', 'active', 'reconnecting']);

export class YieldToCalls {
  readonly #streams: () => Iterable<YieldStream>;
  readonly #make: () => StreamPacer;
  readonly #live = new Set<YieldCall>();
  readonly #offs: Array<() => void> = [];
  /** State listeners of calls not yet over. */
  readonly #calls = new Map<YieldCall, () => void>();

  /** `streams`: the session streams now (read at each change); `make`: a fresh pacer per stream. */
  constructor(
    calls: YieldCalls,
    streams: () => Iterable<YieldStream>,
    make: () => StreamPacer = () => new YieldPacer(),
  ) {
    this.#streams = streams;
    this.#make = make;
    this.#offs.push(calls.on('call', (call) => this.#track(call)));
  }

  /** True while a call is up (streams yield). */
  get yielding(): boolean {
    return this.#live.size > 0;
  }

  /** A stream made while a call is up (a new session) yields from the start. */
  adopt(stream: YieldStream): void {
    if (this.yielding) stream.setPacer(this.#make());
  }

  close(): void {
    for (const off of this.#offs.splice(0)) off();
    for (const off of this.#calls.values()) off();
    this.#calls.clear();
    this.#live.clear();
  }

  #track(call: YieldCall): void {
    const update = (state: string): void => {
      const was = this.yielding;
      if (LIVE.has(state)) this.#live.add(call);
      else this.#live.delete(call);
      if (was === this.yielding) return;
      for (const stream of this.#streams()) stream.setPacer(this.yielding ? this.#make() : null);
    };
    const off = call.on('state', ({ state }) => {
      update(state);
      if (state !== 'ended' && state !== 'failed') return;
      off();
      this.#calls.delete(call);
    });
    this.#calls.set(call, off);
    update(call.state);
  }
}
