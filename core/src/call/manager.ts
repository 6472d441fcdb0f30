// CallManager: places calls, receives rings, routes call signals from the relay to the right call. Accepts call
// signals only from contacts, and per call only from that call's contact. One call at a time (others: busy).
import { silentLogger, type Logger } from '../platform/types.js';
import { Emitter } from '../util/emitter.js';
import { randomId } from '../util/ids.js';
import { CallImpl, type CallContext } from './call.js';
import { CallError } from './errors.js';
import type { Unsubscribe } from '../api.js';
import type { IceServer } from '../platform/rtc.js';
import type { StreamLike } from './media-types.js';
import {
  CALL_SIGNAL_KIND,
  CallSignalSchema,
  describeCallSignalIssue,
  isCallSignal,
  type CallSignal,
  type CallSignalOf,
} from './signals.js';
import { verifyRing } from './trust.js';
import type { Call, CallManagerEvents, CallManagerOptions, CallTimeouts } from './types.js';

export const DEFAULT_CALL_TIMEOUTS: Readonly<CallTimeouts> = Object.freeze({
  ringMs: 45_000,
  connectMs: 10_000,
  reconnectMs: 6_000,
  closeGraceMs: 1_500,
  relayHeadStartMs: 2_500,
});

/** Rings whose signed time is further than this from our clock are refused (replays; allows for clock skew). */
export const RING_CLOCK_WINDOW_MS = 10 * 60_000;
/** Call ids of rings already seen, remembered to refuse replays (bounded, oldest forgotten first). */
const SEEN_RINGS = 512;

export interface StartCallOptions {
  /** Whether the call is offered with video. Default: the stream has a video track. */
  video?: boolean;
}

export class CallManager<S extends StreamLike = StreamLike> {
  readonly #o: CallManagerOptions;
  readonly #log: Logger;
  readonly #timeouts: CallTimeouts;
  readonly #events = new Emitter<CallManagerEvents<S>>();
  readonly #offSignal: () => void;
  #current: CallImpl<S> | null = null;
  #closed = false;
  /** Call signals are handled one at a time, in arrival order (a ring's signature check is async). */
  #chain: Promise<void> = Promise.resolve();
  readonly #seenRings = new Set<string>();

  constructor(options: CallManagerOptions) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
    this.#timeouts = { ...DEFAULT_CALL_TIMEOUTS, ...options.timeouts };
    for (const [name, value] of Object.entries(this.#timeouts)) {
      if (!Number.isFinite(value) || value <= 0)
        throw new RangeError(`call timeout ${name} must be a positive number of ms, got ${String(value)}`);
    }
    this.#events.onListenerError = (error) => this.#log.error({ err: String(error) }, 'call manager listener threw');
    this.#offSignal = options.relay.on('signal', ({ from, data }) => {
      if (!isCallSignal(data)) return;
      this.#chain = this.#chain
        .then(() => this.#onSignal(from, data))
        .catch((error: unknown) => this.#log.error({ err: String(error) }, 'call signal handling failed'));
    });
  }

  /** Resolves once every call signal received so far has been handled (they are handled one at a time). */
  idle(): Promise<void> {
    return this.#chain;
  }

  /** The call in progress (ringing, connecting, active), or null. */
  get current(): Call<S> | null {
    return this.#current;
  }

  on<K extends keyof CallManagerEvents<S>>(event: K, listener: (value: CallManagerEvents<S>[K]) => void): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /**
   * Calls a contact with our local stream. Returns the call at once; it rings, connects or fails asynchronously
   * (subscribe to 'state' right away: nothing happens before the current task ends).
   */
  start(contactId: string, localStream: S, options: StartCallOptions = {}): Call<S> {
    if (this.#closed) throw new CallError('closed', 'the call manager is closed');
    if (this.#current) throw new CallError('busy', 'another call is in progress');
    if (contactId === this.#o.identity.id) throw new CallError('unknown-contact', 'you cannot call yourself');
    const peerKey = this.#o.contactKey(contactId);
    if (!peerKey) throw new CallError('unknown-contact', 'only contacts can be called');
    if (!localStream || localStream.getTracks().length === 0)
      throw new CallError('invalid-media', 'a call needs a stream with at least one track');
    const video = options.video ?? localStream.getVideoTracks().length > 0;
    const call = new CallImpl<S>(this.#context(contactId, peerKey), {
      id: randomId(16),
      peerId: contactId,
      direction: 'outgoing',
      offered: { audio: localStream.getAudioTracks().length > 0, video },
      localStream,
      sendVideo: video,
    });
    this.#current = call;
    this.#events.emit('call', call);
    queueMicrotask(() => call.begin());
    return call;
  }

  /** Hangs up any call and stops listening to the relay. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#offSignal();
    this.#current?.close();
    this.#current = null;
    this.#events.removeAll();
  }

  #context(peerId: string, peerKey: NonNullable<ReturnType<CallManagerOptions['contactKey']>>): CallContext {
    const o = this.#o;
    return {
      relay: o.relay,
      identity: o.identity,
      peerKey,
      peerName: o.contactName?.(peerId) || 'your contact',
      timeouts: this.#timeouts,
      iceServers: () => resolveIceServers(o.iceServers),
      relayOnly: () => (typeof o.relayOnly === 'function' ? o.relayOnly() : (o.relayOnly ?? false)),
      wrtc: o.wrtc,
      ...(o.SimplePeer ? { SimplePeer: o.SimplePeer } : {}),
      logger: this.#log,
      stopTracksOnEnd: o.stopTracksOnEnd ?? true,
      ...(o.relayMedia ? { relayMedia: o.relayMedia } : {}),
      ...(o.aead ? { aead: o.aead } : {}),
      onFinished: (call) => {
        if ((this.#current as unknown) === call) this.#current = null;
      },
    };
  }

  async #onSignal(from: string, data: Record<string, unknown>): Promise<void> {
    if (this.#closed) return;
    const peerKey = this.#o.contactKey(from);
    if (!peerKey) {
      this.#log.debug({ from }, 'call signal from a stranger ignored');
      return;
    }
    const parsed = CallSignalSchema.safeParse(data);
    if (!parsed.success) {
      this.#log.warn({ from, issue: describeCallSignalIssue(parsed.error) }, 'malformed call signal ignored');
      return;
    }
    const sig: CallSignal = parsed.data;
    if (sig.op === 'ring') {
      if (await this.#ringTrusted(from, peerKey, sig)) this.#onRing(from, peerKey, sig);
      return;
    }
    const call = this.#current;
    if (!call || call.id !== sig.callId || call.peerId !== from) {
      this.#log.debug({ from, op: sig.op }, 'call signal for no current call ignored');
      return;
    }
    call.handle(sig);
  }

  async #ringTrusted(
    from: string,
    peerKey: NonNullable<ReturnType<CallManagerOptions['contactKey']>>,
    sig: CallSignalOf<'ring'>,
  ): Promise<boolean> {
    if (this.#seenRings.has(sig.callId)) {
      if (this.#current?.id !== sig.callId) this.#log.warn({ from }, 'replayed call ring ignored');
      return false;
    }
    if (Math.abs(Date.now() - sig.at) > RING_CLOCK_WINDOW_MS) {
      this.#log.warn(
        { from, skewMs: Date.now() - sig.at },
        'call ring outside the time window ignored (replay, or clocks far apart)',
      );
      return false;
    }
    const fields = { callId: sig.callId, callerId: from, calleeId: this.#o.identity.id, media: sig.media, at: sig.at };
    if (!(await verifyRing(peerKey, fields, sig.sig))) {
      this.#log.warn({ from }, 'call ring not signed by the contact ignored');
      return false;
    }
    if (this.#closed) return false;
    this.#seenRings.add(sig.callId);
    if (this.#seenRings.size > SEEN_RINGS) this.#seenRings.delete(this.#seenRings.values().next().value!);
    return true;
  }

  #onRing(
    from: string,
    peerKey: NonNullable<ReturnType<CallManagerOptions['contactKey']>>,
    sig: CallSignalOf<'ring'>,
  ): void {
    const current = this.#current;
    if (current) {
      const glare =
        current.peerId === from &&
        current.direction === 'outgoing' &&
        (current.state === 'calling' || current.state === 'ringing');
      if (glare && this.#o.identity.id < from) return; // they give way to our call (same rule on their side)
      if (glare) {
        current.supersede();
      } else {
        this.#o.relay
          .signal(from, { kind: CALL_SIGNAL_KIND, callId: sig.callId, op: 'decline', reason: 'busy' })
          .catch(() => undefined);
        this.#events.emit('missed', { peerId: from, callId: sig.callId, offered: { ...sig.media }, at: Date.now() });
        return;
      }
    }
    const call = new CallImpl<S>(this.#context(from, peerKey), {
      id: sig.callId,
      peerId: from,
      direction: 'incoming',
      offered: sig.media,
    });
    this.#current = call;
    call.ringIncoming();
    this.#events.emit('call', call);
    this.#events.emit('incoming', call);
  }
}

function resolveIceServers(source: CallManagerOptions['iceServers']): IceServer[] {
  const list = typeof source === 'function' ? source() : (source ?? []);
  return list.map((s) => ({
    urls: Array.isArray(s.urls) ? [...s.urls] : s.urls,
    ...(s.username !== undefined ? { username: s.username } : {}),
    ...(s.credential !== undefined ? { credential: s.credential } : {}),
  }));
}
