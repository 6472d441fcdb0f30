// The browser's relay media engine (core/src/call/relay-media/pipeline.ts): our tracks go through
// MediaStreamTrackProcessor into a worker that encodes them (WebCodecs: VP8 realtime L1T3, Opus 20 ms with
// in-band FEC); the peer's frames are decoded there into MediaStreamTrackGenerator tracks, so the call's
// remoteStream is an ordinary MediaStream and the call UI has one code path. Processors and generators exist
// only on the window in Chromium; their streams are transferred to the worker. The received audio is played
// through a local peer-connection loopback (aec-loopback.ts), so the echo canceller hears it.
// The worker also runs the record layer (attachRecordLayer): the window only ferries sealed records between
// the relay channel and the worker, transferred, never a plaintext frame.
import {
  emptyRelayMediaStats,
  type RecordLayerHandOff,
  type RelayMediaEngine,
  type RelayMediaPipeline,
  type RelayMediaStartOptions,
  type RelayMediaStats,
  type SendControl,
} from '../../../core/src/call/relay-media/pipeline.js';
import type { MediaFrame } from '../../../core/src/call/relay-media/frame.js';
import type { TrackLike } from '../../../core/src/call/media-types.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { aecLoopback, type AecLoopback, type LoopbackPlayout } from './aec-loopback.js';

/** How long a closing pipeline's worker gets to cancel its track readers before it is terminated. */
const WORKER_CLOSE_MS = 1_000;
/** How often the loopback receiver's counters are read (its jitter buffer's delay goes to the worker). */
const LOOPBACK_READ_MS = 500;
import { routeLaneChannel } from './lane-socket.js';

interface ProcessorCtor {
  new (init: { track: MediaStreamTrack }): { readable: ReadableStream };
}
interface GeneratorCtor {
  new (init: { kind: 'audio' | 'video' }): MediaStreamTrack & { writable: WritableStream };
}
interface InsertableStreams {
  MediaStreamTrackProcessor?: ProcessorCtor;
  MediaStreamTrackGenerator?: GeneratorCtor;
  VideoEncoder?: unknown;
  AudioEncoder?: unknown;
}

/** The engine, or null where the browser lacks WebCodecs or insertable streams (calls are then direct/TURN only). */
export function createWebCodecsEngine(): RelayMediaEngine<MediaStream> | null {
  const g = globalThis as unknown as InsertableStreams;
  const Processor = g.MediaStreamTrackProcessor;
  const Generator = g.MediaStreamTrackGenerator;
  if (!Processor || !Generator || !g.VideoEncoder || !g.AudioEncoder || typeof Worker === 'undefined') return null;
  // A worker loaded ahead for the next pipeline (prepare): loading and compiling it took 0.3–0.5 s on a busy
  // machine, all of it on the way of a move to the relay. Each worker serves one pipeline.
  let spare: Worker | null = null;
  return {
    prepare: () => {
      if (spare) return;
      const worker = mediaWorker();
      // A spare that fails to load is dropped (start makes a fresh one); once taken, the pipeline hears it.
      worker.onerror = () => {
        worker.terminate();
        if (spare === worker) spare = null;
      };
      worker.postMessage({ type: 'warm' } satisfies ToWorker);
      spare = worker;
    },
    release: () => {
      spare?.terminate();
      spare = null;
    },
    start: (options) => {
      const worker = spare ?? mediaWorker();
      spare = null;
      return new WebCodecsPipeline(options, worker, Processor, Generator);
    },
  };
}

function mediaWorker(): Worker {
  return new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'parley-call-media' });
}

class WebCodecsPipeline implements RelayMediaPipeline<MediaStream> {
  readonly remoteStream: MediaStream;
  readonly #worker: Worker;
  readonly #Processor: ProcessorCtor;
  readonly #generators: MediaStreamTrack[];
  #stats: RelayMediaStats = emptyRelayMediaStats();
  #closed = false;
  #loopback: AecLoopback | null = null;
  #writeSealed: ((sealed: Uint8Array) => void) | null = null;
  /** The loopback receiver's counters: the last reading, and the one the last delay figure started from. */
  #loopbackLast: LoopbackPlayout | null = null;
  #loopbackFrom: LoopbackPlayout | null = null;
  #loopbackTimer: ReturnType<typeof setInterval> | undefined;
  readonly #logger: RelayMediaStartOptions['logger'];

  constructor(options: RelayMediaStartOptions, worker: Worker, Processor: ProcessorCtor, Generator: GeneratorCtor) {
    this.#Processor = Processor;
    this.#logger = options.logger;
    this.#worker = worker;
    const audio = new Generator({ kind: 'audio' });
    const video = new Generator({ kind: 'video' });
    this.#generators = [audio, video];
    this.remoteStream = new MediaStream([audio, video]);
    void this.#routeAudioForEchoCancellation(audio, options);
    this.#worker.onmessage = (ev: MessageEvent<FromWorker>) => {
      const m = ev.data;
      switch (m.type) {
        case 'frame':
          options.onFrame({
            track: m.track,
            key: m.key,
            layer: m.layer,
            channels: m.channels,
            timestampUs: m.timestampUs,
            captureMs: m.captureMs,
            payload: new Uint8Array(m.payload),
          });
          return;
        case 'need-key':
          options.onKeyFrameNeeded();
          return;
        case 'received':
          options.onReceived?.(m.kind);
          return;
        case 'sealed':
          this.#writeSealed?.(new Uint8Array(m.buffer, m.offset, m.length));
          return;
        case 'link-closed':
          options.onClosed?.(m.reason);
          return;
        case 'stats':
          this.#stats = m.stats;
          return;
        case 'error':
          options.onError(m.message);
          return;
      }
    };
    this.#worker.onerror = (ev) => options.onError(`media worker: ${ev.message}`);
    this.#post({ type: 'sinks', audio: audio.writable, video: video.writable }, [audio.writable, video.writable]);
    for (const { track } of options.tracks) this.#source(track);
  }

  deliver(frame: MediaFrame): void {
    // A copy the worker owns (the frame is a view into a decrypted record).
    const payload = frame.payload.slice().buffer;
    this.#post(
      {
        type: 'deliver',
        track: frame.track,
        key: frame.key,
        layer: frame.layer,
        channels: frame.channels,
        timestampUs: frame.timestampUs,
        captureMs: frame.captureMs,
        payload,
      },
      [payload],
    );
  }

  attachRecordLayer(handOff: RecordLayerHandOff, write: (sealed: Uint8Array) => void): (sealed: Uint8Array) => void {
    this.#writeSealed = write;
    // The channel's keys are non-extractable CryptoKeys: cloned to the worker, readable by nobody. On the
    // media lane the channel's records then bypass the window (routeLaneChannel); sealed records that reach
    // the window meanwhile (or on the main connection) are ferried, and arrive first.
    const start = (port: MessagePort | null): void =>
      this.#post({ type: 'record-layer', handOff, port }, port ? [port] : []);
    const route = handOff.route;
    if (!route) start(null);
    else
      void routeLaneChannel(route.peer, route.tag).then(start, (error: unknown) => {
        this.#logger.warn({ err: String(error) }, 'relay call media goes through the window');
        start(null);
      });
    return (sealed) => {
      const { buffer, offset, length, transfer } = transferable(sealed);
      this.#post({ type: 'sealed', buffer, offset, length }, transfer);
    };
  }

  control(control: SendControl): void {
    this.#post({ type: 'control', control });
  }

  keyFrame(): void {
    this.#post({ type: 'key-frame' });
  }

  replaceTrack(_previous: TrackLike, next: TrackLike): void {
    this.#source(next);
  }

  stats(): RelayMediaStats {
    const stats = { ...this.#stats, audioViaPeerConnection: this.#loopback !== null };
    const p = this.#loopback ? this.#loopbackLast : null;
    if (!p) return stats;
    // What the speaker gets is what the loopback's receiver plays: its samples out, of them concealed (made up
    // for audio that came late or not at all), plus silence the worker put in before the loopback took over.
    const concealed = Math.round((p.concealed * 1000) / p.sampleRate);
    const silence = stats.audioSilenceMs ?? 0;
    stats.audioPlayedMs = Math.max(0, Math.round(((p.samples - p.concealed) * 1000) / p.sampleRate) - silence);
    stats.audioUnderrunMs = silence + concealed;
    return { ...stats, audioConcealedMs: concealed };
  }

  /**
   * Reads the loopback receiver's counters; its jitter buffer is the only one the audio goes through (the
   * worker hands audio on as decoded), and its average delay over the last readings goes to the worker, which
   * shows video in sync with it.
   */
  async #readLoopback(loopback: AecLoopback): Promise<void> {
    const p = await loopback.playout().catch(() => null);
    if (!p || this.#loopback !== loopback || this.#closed) return;
    this.#loopbackLast = p;
    const from = this.#loopbackFrom;
    const emitted = p.jitterBufferEmitted - (from?.jitterBufferEmitted ?? 0);
    // At least ~0.5 s of samples for a figure (the first reading: everything since the start).
    if (emitted < p.sampleRate / 2) return;
    const ms = ((p.jitterBufferDelayS - (from?.jitterBufferDelayS ?? 0)) * 1000) / emitted;
    this.#loopbackFrom = p;
    this.#post({ type: 'audio-buffer', ms: Math.round(ms) });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#post({ type: 'close' });
    clearInterval(this.#loopbackTimer);
    // Terminated once the worker has cancelled its track readers (the window's track processors then close
    // the frames they hold), not at once: frames on their way to a terminated worker were garbage collected
    // unclosed (Chromium's console error, seen in the mid-call e2e once relay media started ahead carried
    // frames from its first moment). Bounded, for a worker that does not answer.
    // The generator tracks stop then too: a frame the worker writes into a stopped one would be dropped.
    const worker = this.#worker;
    const generators = this.#generators;
    const finish = (): void => {
      clearTimeout(timer);
      worker.terminate();
      for (const track of generators) track.stop();
    };
    const timer = setTimeout(finish, WORKER_CLOSE_MS);
    worker.onmessage = (ev: MessageEvent<FromWorker>) => {
      if (ev.data.type === 'closed') finish();
    };
    this.#loopback?.close();
    this.#loopback?.track.stop();
  }

  /** Plays the decoded audio out of a local peer connection (the echo canceller's far end), once it is up. */
  async #routeAudioForEchoCancellation(generator: MediaStreamTrack, options: RelayMediaStartOptions): Promise<void> {
    try {
      const loopback = await aecLoopback(generator);
      if (this.#closed) {
        loopback.close();
        return;
      }
      this.#loopback = loopback;
      this.remoteStream.addTrack(loopback.track);
      this.remoteStream.removeTrack(generator);
      // From now on the loopback receiver's jitter buffer is the audio's only one (#readLoopback).
      this.#post({ type: 'audio-buffer', ms: 0 });
      this.#loopbackTimer = setInterval(() => void this.#readLoopback(loopback), LOOPBACK_READ_MS);
    } catch (error) {
      options.logger.warn(
        { err: (error as Error).message },
        'relay call audio plays without echo cancellation (no local peer connection)',
      );
    }
  }

  #source(track: TrackLike): void {
    if (track.kind !== 'audio' && track.kind !== 'video') return;
    const { readable } = new this.#Processor({ track: track as MediaStreamTrack });
    this.#post({ type: 'source', kind: track.kind, readable }, [readable]);
  }

  #post(message: ToWorker, transfer: Transferable[] = []): void {
    if (this.#closed && message.type !== 'close') return;
    this.#worker.postMessage(message, transfer);
  }
}

/**
 * The buffer to post for `bytes`: a relay message's own buffer (a fresh ArrayBuffer per WebSocket message)
 * moves without a copy; a view into something larger or shared is copied.
 */
export function transferable(bytes: Uint8Array): {
  buffer: ArrayBuffer;
  offset: number;
  length: number;
  transfer: Transferable[];
} {
  const own =
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset <= 64 &&
    bytes.byteOffset + bytes.byteLength === bytes.buffer.byteLength;
  if (own)
    return { buffer: bytes.buffer, offset: bytes.byteOffset, length: bytes.byteLength, transfer: [bytes.buffer] };
  const copy = bytes.slice();
  return { buffer: copy.buffer, offset: 0, length: copy.byteLength, transfer: [copy.buffer] };
}
