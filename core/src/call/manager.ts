// CallManager: places calls, receives rings, routes call signals from the relay to the right call. Accepts call
// signals only from contacts, signed by them (and sealed: signal-link.ts), and per call only from that call's
// contact. One call at a time (others: busy).
import { silentLogger, type Logger } from '../platform/types.js';
import { Emitter } from '../util/emitter.js';
import { randomId } from '../util/ids.js';
import { KEY_SIGNAL, type OpenResult } from '../session/signal-envelope.js';
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
import { CALL_SIGNAL_VERSION, CallSignalLinks, type Confidentiality } from './signal-link.js';
import { verifyRing } from './trust.js';
import type { Call, CallManagerEvents, CallManagerOptions, CallRelay, CallState, CallTimeouts } from './types.js';

export const DEFAULT_CALL_TIMEOUTS: Readonly<CallTimeouts> = Object.freeze({
  ringMs: 45_000,
  connectMs: 10_000,
  reconnectMs: 6_000,
  closeGraceMs: 3_000,
  relayHeadStartMs: 2_500,
  relayNoAnswerMs: 1_500,
  directRetryMs: 5_000,
});

/** Rings whose signed time is further than this from our clock are refused (replays; allows for clock skew). */
export const RING_CLOCK_WINDOW_MS = 10 * 60_000;
/** Call ids of rings already seen, remembered to refuse replays (bounded, oldest forgotten first). */
const SEEN_RINGS = 512;
/** States in which a refused signal from the call's contact ends the call (once active, media no longer needs signals). */
const SETUP_STATES: ReadonlySet<CallState> = new Set(['calling', 'ringing', 'connecting']);

type ContactKey = NonNullable<ReturnType<CallManagerOptions['contactKey']>>;

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
  readonly #links: CallSignalLinks;

  constructor(options: CallManagerOptions) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
    this.#timeouts = { ...DEFAULT_CALL_TIMEOUTS, ...options.timeouts };
    for (const [name, value] of Object.entries(this.#timeouts)) {
      if (!Number.isFinite(value) || value <= 0)
        throw new RangeError(`call timeout ${name} must be a positive number of ms, got ${String(value)}`);
    }
    this.#events.onListenerError = (error) => this.#log.error({ err: String(error) }, 'call manager listener threw');
    this.#links = new CallSignalLinks(options.identity, (to, envelope) => options.relay.signal(to, envelope));
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

  /** Signs and seals a call signal to a contact (signal-link.ts): SDP and candidates always sealed. */
  #send(to: string, peerKey: ContactKey, data: Record<string, unknown>): Promise<void> {
    const confidential: Confidentiality = data.op === 'ring' ? false : data.op === 'rtc' ? true : 'if-known';
    return this.#links.send(to, peerKey, data, confidential);
  }

  #context(peerId: string, peerKey: ContactKey): CallContext {
    const o = this.#o;
    const relay: CallRelay = {
      get state() {
        return o.relay.state;
      },
      signal: (to, data) => this.#send(to, peerKey, data),
      on: (event, listener) => o.relay.on(event, listener),
    };
    return {
      relay,
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
    if (data.kind === CALL_SIGNAL_KIND) {
      await this.#onClearSignal(from, peerKey, data);
      return;
    }
    const opened = await this.#links.open(from, peerKey, data);
    if (this.#closed) return;
    if (!opened.ok) {
      this.#onRefused(from, opened);
      return;
    }
    if (opened.data.kind === KEY_SIGNAL.kind) return;
    const parsed = CallSignalSchema.safeParse(opened.data);
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

  /**
   * An envelope that did not verify. Altered or unsigned (the relay, or someone speaking for the contact) or of
   * another version: a call with that contact still being set up is refused with the reason; an active one
   * goes on (its media no longer depends on signals, and a forger must not be able to end it).
   */
  #onRefused(from: string, refused: Extract<OpenResult, { ok: false }>): void {
    const name = this.#o.contactName?.(from) || 'your contact';
    if (refused.reason === 'version') {
      this.#log.warn({ from, reason: refused.message }, 'call signal of another version');
      this.#events.emit('incompatible', { peerId: from, message: refused.message, at: Date.now() });
      this.#refuseSetup(from, 'unsupported', `${name} cannot be called: ${refused.message}`);
      return;
    }
    if (refused.reason === 'signature' || refused.reason === 'malformed') {
      this.#log.warn({ from, reason: refused.message }, 'call signal refused');
      this.#refuseSetup(
        from,
        'tampered',
        `a call signal from ${name} was altered on the way (${refused.message}): the relay may be tampering; the call was refused`,
      );
      return;
    }
    this.#log.debug({ from, reason: refused.message }, 'call signal dropped');
  }

  #refuseSetup(from: string, code: 'tampered' | 'unsupported', message: string): void {
    const call = this.#current;
    if (call && call.peerId === from && SETUP_STATES.has(call.state)) call.refuse(code, message);
  }

  /**
   * A clear call signal: the contact runs a Parley older than call signals v2. Its ring is answered in the
   * words it understands (a v1 hangup 'unsupported': "calls are not available on one of the devices"), so its
   * call fails at once instead of ringing out; our UI learns why from 'incompatible'.
   */
  async #onClearSignal(from: string, peerKey: ContactKey, data: Record<string, unknown>): Promise<void> {
    const parsed = CallSignalSchema.safeParse(data);
    if (!parsed.success || parsed.data.op !== 'ring') {
      this.#log.debug({ from }, 'clear (v1) call signal ignored');
      return;
    }
    const ring = parsed.data;
    if (!(await this.#ringTrusted(from, peerKey, ring))) return;
    const name = this.#o.contactName?.(from) || 'a contact';
    const message = `${name} called with an older Parley (call signals in clear, v1); calls need v${CALL_SIGNAL_VERSION}: ${name} needs to update Parley`;
    this.#log.warn({ from }, 'clear (v1) call ring refused: the contact needs to update');
    this.#events.emit('incompatible', { peerId: from, message, at: Date.now() });
    this.#o.relay
      .signal(from, { kind: CALL_SIGNAL_KIND, callId: ring.callId, op: 'hangup', reason: 'unsupported' })
      .catch(() => undefined);
  }

  async #ringTrusted(from: string, peerKey: ContactKey, sig: CallSignalOf<'ring'>): Promise<boolean> {
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

  #onRing(from: string, peerKey: ContactKey, sig: CallSignalOf<'ring'>): void {
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
        this.#send(from, peerKey, { kind: CALL_SIGNAL_KIND, callId: sig.callId, op: 'decline', reason: 'busy' }).catch(
          () => undefined,
        );
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
