// While a call is up, session streams yield the relay to it (issue #11: media must not queue behind files).
// Every session stream gets a YieldPacer (yield-pacer.ts) when a call starts connecting and loses it when the
// last call ends, so a file sent meanwhile keeps only what the link drains in a few tens of ms in flight and
// the call's frames wait behind none of it; with no call, files take the path exactly as before. The pacer
// acts on relay links only (stream.ts): a direct data channel does not share the relay's links.
// While yielding, the live calls' relay media round trip is sampled a few times a second (media-delay.ts): the
// pacers read the queue from it as well as from their own round trips.
import { MediaDelay } from './media-delay.js';
import type { StreamPacer } from './stream.js';
import { YieldPacer } from './yield-pacer.js';

/** What this needs of a call (core/src/call Call fits). */
export interface YieldCall {
  readonly state: string;
  /** The relay media's latest round trip (ms) while the call's media goes over the relay, else null. */
  readonly relayRttMs?: number | null;
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
/** How often the media's round trip is read (the media worker reports it every 250 ms). */
export const MEDIA_SAMPLE_MS = 125;

/** Makes a stream's pacer; `mediaQueueingMs` reads the queue the calls' relay media sees (or null). */
export type MakePacer = (mediaQueueingMs: () => number | null) => StreamPacer;

export class YieldToCalls {
  readonly #streams: () => Iterable<YieldStream>;
  readonly #make: MakePacer;
  readonly #live = new Set<YieldCall>();
  #delay = new MediaDelay();
  #sampler: ReturnType<typeof setInterval> | undefined;
  readonly #offs: Array<() => void> = [];
  /** State listeners of calls not yet over. */
  readonly #calls = new Map<YieldCall, () => void>();

  /** `streams`: the session streams now (read at each change); `make`: a fresh pacer per stream. */
  constructor(
    calls: YieldCalls,
    streams: () => Iterable<YieldStream>,
    make: MakePacer = (mediaQueueingMs) => new YieldPacer({ mediaQueueingMs }),
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
    if (this.yielding) stream.setPacer(this.#pacer());
  }

  close(): void {
    this.#stopSampling();
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
      if (this.yielding) this.#startSampling();
      else this.#stopSampling();
      for (const stream of this.#streams()) stream.setPacer(this.yielding ? this.#pacer() : null);
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

  #pacer(): StreamPacer {
    const delay = this.#delay;
    return this.#make(() => delay.queueingMs());
  }

  #startSampling(): void {
    this.#delay = new MediaDelay();
    this.#sampler = setInterval(() => {
      let rtt: number | null = null;
      for (const call of this.#live) {
        const r = call.relayRttMs ?? null;
        if (r !== null && (rtt === null || r < rtt)) rtt = r;
      }
      this.#delay.record(rtt);
    }, MEDIA_SAMPLE_MS);
  }

  #stopSampling(): void {
    clearInterval(this.#sampler);
    this.#sampler = undefined;
  }
}
