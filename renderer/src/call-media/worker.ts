// The media worker of a relay call (engine.ts starts it): encodes our captured frames with WebCodecs (VP8
// realtime, temporal layers L1T3; Opus 20 ms with in-band FEC) and decodes the peer's frames into the
// generator tracks' writable streams. Once the window hands the relay channel's record layer over
// ('record-layer'), sealing, opening, numbering, feedback and congestion control run here too (core
// relay-media/record-layer.ts): the window only moves sealed records between the relay channel and here.
// Until then (and on a platform that cannot hand off) the window does them and sends `control`.
import {
  emptyRelayMediaStats,
  type RelayMediaStats,
  type SendControl,
} from '../../../core/src/call/relay-media/pipeline.js';
import { AudioPlayout, PlayoutClock, VideoPlayout } from '../../../core/src/call/relay-media/playout.js';
import {
  CaptureClock,
  EncoderTimeline,
  GapMeter,
  SpreadMeter,
  StageTimes,
  type StageSummary,
} from '../../../core/src/call/relay-media/stages.js';
import { EncodeBudget } from '../../../core/src/call/relay-media/encode-budget.js';
import { relayEncodeSize } from '../../../core/src/call/relay-media/encode-size.js';
import { EarlyAudioGate } from '../../../core/src/call/relay-media/early-audio.js';
import type { MediaFrame } from '../../../core/src/call/relay-media/frame.js';
import { PipelineLink } from '../../../core/src/call/relay-media/record-layer.js';
import type { RecordLayerHandOff } from '../../../core/src/call/relay-media/pipeline.js';
import type { Logger } from '../../../core/src/platform/types.js';
import type { FromWorker, ToWorker, WireFrame } from './protocol.js';

interface WorkerScope {
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

const VIDEO_CODEC = 'vp8';
const AUDIO_CODEC = 'opus';
const AUDIO_BITRATE = 32_000;
const FULL_FPS = 30;
/**
 * A captured frame is skipped while the previous one is still in the encoder: a frame that waits its turn
 * only adds latency (the encoder cannot keep real time; encode-budget.ts then lowers the size).
 */
const MAX_ENCODE_QUEUE = 0;
/** Capture times of frames in the encoder (timestamp → capture time), bounded. */
const MAX_PENDING_CAPTURE = 64;
/** Opus frames are 20 ms; silence is inserted in the same steps. */
const AUDIO_FRAME_MS = 20;

let control: SendControl = { bitrate: 600_000, scaleDown: 1, fps: FULL_FPS, audioOnly: false, pauseVideo: false };
let wantKey = true;
let closed = false;

let videoEncoder: VideoEncoder | null = null;
let videoConfig = '';
let audioEncoder: AudioEncoder | null = null;
let audioChannels = 1;
let audioSampleRate = 0;
let lastEncodedAt = -Infinity;
const captureOf = new Map<number, number>();
const captureClocks = { audio: new CaptureClock(), video: new CaptureClock() };
/** Capture times of the audio encoder's output (its timestamps are its own). */
const audioTimeline = new EncoderTimeline();
/** The picture size this machine can encode in real time (half size first). */
const encodeBudget = new EncodeBudget();

let videoDecoder: VideoDecoder | null = null;
let audioDecoder: AudioDecoder | null = null;
let audioDecoderChannels = 0;
let videoWriter: WritableStreamDefaultWriter<VideoFrame> | null = null;
let audioWriter: WritableStreamDefaultWriter<AudioData> | null = null;
/** The decoder needs a key frame before anything else decodes (start, or after an error). */
let awaitingKey = true;
let lastKeyAsk = -Infinity;
/** The kinds whose first decoded frame the window was told of ('received'). */
const received = new Set<'audio' | 'video'>();
const receivedCapture = new Map<number, number>();
const audioCapture = new Map<number, number>();
const latencies: number[] = [];
const stages = new StageTimes();
/** Audio's lateness as a downstream jitter buffer would see it: at arrival here, and where it is handed on. */
const arrivalSpread = new SpreadMeter();
const writeSpread = new SpreadMeter();
let audioWrittenMs: number | null = null;
/** Drops the start-up backlog's early frames once the downstream buffer took over (early-audio.ts). */
const earlyAudio = new EarlyAudioGate();
/** Stalls along the path: our records handed to the socket, the peer's reaching our socket and reaching us. */
const gaps = { 'gap.sent': new GapMeter(), 'gap.atSocket': new GapMeter(), 'gap.toWorker': new GapMeter() };
/** The jitter buffer: audio is the clock, video is shown when due against it (core relay-media/playout.ts). */
const clock = new PlayoutClock();
const videoPlayout = new VideoPlayout<{ frame: VideoFrame; captureMs: number }>(clock);
const audioPlayout = new AudioPlayout<{ data: AudioData; captureMs: number }>(clock, { frameMs: AUDIO_FRAME_MS });
/** The format of the audio last decoded (silence is made in it) and the output's next timestamp. */
let audioFormat: { sampleRate: number; channels: number } | null = null;
/**
 * The audio plays out of the loopback receiver's jitter buffer (the engine said so): decoded audio goes on at
 * once, no pacing or silence here (the receiver conceals what is missing and stretches time to catch up).
 * NetEq's first 500 ms lateness samples weigh most (the n-th 2/(n+1)): a start-up stall held its target at
 * 100–160 ms for 7–13 s. Two cures tried in interleaved bench runs did not pay off: pacing audio into the
 * loopback for the first seconds (NetEq still concealed when this worker stalled, and each move of an
 * adaptive delay here reached it as a pause: 5 % concealed, target 340 ms at load 9), and building the
 * loopback afresh once its target stuck (the new NetEq came down to 40–60 ms, and the next stall raised it).
 */
let audioDownstream = false;
let audioOutTimestamp = 0;
let videoTimer: ReturnType<typeof setTimeout> | undefined;
let audioTimer: ReturnType<typeof setTimeout> | undefined;
const readers: Partial<Record<'audio' | 'video', ReadableStreamDefaultReader>> = {};

const stats: RelayMediaStats = emptyRelayMediaStats();
/** The record layer and per-frame logic, once the window handed them over. */
let link: PipelineLink | null = null;
/** The media lane's socket worker, when the channel's records bypass the window. */
let lanePort: MessagePort | null = null;
/** The lane socket worker's send-side stall meters, as it last reported them. */
let laneStalls: Record<string, StageSummary> = {};
/** Sealed records the window ferried before the record layer arrived (they come first). */
let sealedEarly: Uint8Array[] | null = [];

const logger: Logger = {
  debug() {},
  info() {},
  warn: (obj, msg) => console.warn(`[call media] ${msg ?? ''}`, obj),
  error: (obj, msg) => console.error(`[call media] ${msg ?? ''}`, obj),
};

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

function fail(message: string): void {
  if (closed) return;
  post({ type: 'error', message });
}

function sendChunk(
  track: 'audio' | 'video',
  chunk: EncodedVideoChunk | EncodedAudioChunk,
  layer: number,
  channels: number,
): void {
  const payload = new ArrayBuffer(chunk.byteLength);
  chunk.copyTo(payload);
  // Video output carries its input's timestamp. Opus output does not (the encoder numbers its 20 ms frames
  // on a timeline of its own): looked up by input timestamp, every audio frame missed and was stamped "now",
  // after the encoder (audio.encoded read 0/0), so video, timed against audio, was shown before its sound.
  const captureMs =
    (track === 'video'
      ? captureOf.get(chunk.timestamp)
      : audioTimeline.output(Math.round(((chunk.duration ?? AUDIO_FRAME_MS * 1000) * 48) / 1000))) ?? Date.now();
  if (track === 'video') captureOf.delete(chunk.timestamp);
  stages.record(`${track}.encoded`, Date.now() - captureMs);
  if (track === 'video') encodeBudget.record(Date.now(), Date.now() - captureMs);
  if (link) {
    link.flow.send({
      track,
      key: chunk.type === 'key',
      layer,
      channels,
      timestampUs: chunk.timestamp,
      captureMs,
      payload: new Uint8Array(payload),
    });
    return;
  }
  const frame: WireFrame = {
    track,
    key: chunk.type === 'key',
    layer,
    channels,
    timestampUs: chunk.timestamp,
    captureMs,
    payload,
  };
  post({ type: 'frame', ...frame }, [payload]);
}

// ---- encoding ----

function ensureVideoEncoder(width: number, height: number): VideoEncoder {
  // The encoder scales to the relay path's picture budget (encode-size.ts), stepped down by the network's
  // (congestion control) or the CPU's (encodeBudget) limit, whichever is lower.
  const { width: w, height: h } = relayEncodeSize(width, height, Math.max(control.scaleDown, encodeBudget.scale));
  const config: VideoEncoderConfig = {
    codec: VIDEO_CODEC,
    width: w,
    height: h,
    bitrate: control.bitrate,
    framerate: control.fps,
    latencyMode: 'realtime',
    scalabilityMode: 'L1T3',
    bitrateMode: 'variable',
  };
  const key = `${w}x${h}@${control.bitrate}/${control.fps}`;
  if (!videoEncoder) {
    videoEncoder = new VideoEncoder({
      output: (chunk, meta) => {
        stats.videoFramesEncoded++;
        // `svc` is in the WebCodecs spec and Chromium, not yet in TypeScript's DOM types.
        const svc = (meta as { svc?: { temporalLayerId?: number } } | undefined)?.svc;
        sendChunk('video', chunk, Math.min(2, svc?.temporalLayerId ?? 0), 0);
      },
      error: (e) => {
        videoEncoder = null;
        videoConfig = '';
        wantKey = true;
        fail(`video encoder: ${e.message}`);
      },
    });
    stats.videoCodec = 'VP8';
  }
  if (key !== videoConfig) {
    const resized = !videoConfig.startsWith(`${w}x${h}@`);
    videoEncoder.configure(config);
    videoConfig = key;
    if (resized) wantKey = true;
  }
  return videoEncoder;
}

function encodeVideo(frame: VideoFrame): void {
  try {
    const now = performance.now();
    const skip =
      control.pauseVideo || control.audioOnly || now - lastEncodedAt < 1000 / control.fps - 1000 / FULL_FPS / 2;
    if (skip) return;
    if (videoEncoder !== null && videoEncoder.encodeQueueSize > MAX_ENCODE_QUEUE) {
      encodeBudget.record(Date.now(), Infinity); // the encoder is behind: over budget
      return;
    }
    lastEncodedAt = now;
    const captureMs = captureClocks.video.stamp(frame.timestamp, Date.now());
    const encoder = ensureVideoEncoder(frame.displayWidth, frame.displayHeight);
    captureOf.set(frame.timestamp, captureMs);
    if (captureOf.size > MAX_PENDING_CAPTURE) captureOf.delete(captureOf.keys().next().value!);
    encoder.encode(frame, { keyFrame: wantKey });
    wantKey = false;
  } finally {
    frame.close();
  }
}

function ensureAudioEncoder(sampleRate: number, channels: number): AudioEncoder {
  if (audioEncoder && audioChannels === Math.min(4, channels) && audioSampleRate === sampleRate) return audioEncoder;
  audioEncoder?.close();
  audioTimeline.reset();
  audioChannels = Math.min(4, channels);
  audioSampleRate = sampleRate;
  const encoder = new AudioEncoder({
    output: (chunk) => {
      stats.audioFramesEncoded++;
      sendChunk('audio', chunk, 0, audioChannels);
    },
    error: (e) => {
      if (audioEncoder === encoder) audioEncoder = null;
      fail(`audio encoder: ${e.message}`);
    },
  });
  encoder.configure({
    codec: AUDIO_CODEC,
    sampleRate,
    numberOfChannels: audioChannels,
    bitrate: AUDIO_BITRATE,
    opus: { frameDuration: 20_000, useinbandfec: true, packetlossperc: 10 },
  } as AudioEncoderConfig);
  stats.audioCodec = 'opus';
  audioEncoder = encoder;
  return encoder;
}

function encodeAudio(data: AudioData): void {
  try {
    const encoder = ensureAudioEncoder(data.sampleRate, data.numberOfChannels);
    const captureMs = captureClocks.audio.stamp(data.timestamp, Date.now());
    audioTimeline.input(Math.round((data.numberOfFrames * 48_000) / data.sampleRate), 48_000, captureMs);
    encoder.encode(data);
  } finally {
    data.close();
  }
}

/**
 * Ahead of use (the engine's prepare, while the call is still direct): the codecs are made and configured
 * now, so the first frames of a move to the relay do not wait for their start-up (the first key frame came
 * 0.1–0.3 s later than the next ones on a busy machine). The video encoder at the size an HD camera (what
 * calls ask for) starts at (encode-budget.ts: half size); a camera of another size reconfigures it.
 */
function warm(): void {
  ensureVideoEncoder(1280, 720);
  ensureAudioEncoder(48_000, 1);
  ensureVideoDecoder();
  ensureAudioDecoder(1);
}

async function pump(kind: 'audio' | 'video', readable: ReadableStream): Promise<void> {
  await readers[kind]?.cancel().catch(() => undefined);
  captureClocks[kind].reset(); // a new device: a new timeline
  const reader = readable.getReader();
  readers[kind] = reader;
  for (;;) {
    let result: ReadableStreamReadResult<unknown>;
    try {
      result = await reader.read();
    } catch {
      return;
    }
    if (result.done || closed || readers[kind] !== reader) {
      if (!result.done) (result.value as VideoFrame | AudioData).close();
      return;
    }
    if (kind === 'video') encodeVideo(result.value as VideoFrame);
    else encodeAudio(result.value as AudioData);
  }
}

// ---- decoding ----

/** Tells the window once per kind that the peer's media decodes (a move to the relay can show it now). */
function firstReceived(kind: 'audio' | 'video'): void {
  if (received.has(kind)) return;
  received.add(kind);
  post({ type: 'received', kind });
}

function askKeyFrame(): void {
  awaitingKey = true;
  const now = performance.now();
  if (now - lastKeyAsk < 1000) return;
  lastKeyAsk = now;
  if (link) link.flow.requestKeyFrame();
  else post({ type: 'need-key' });
}

function ensureVideoDecoder(): VideoDecoder {
  if (videoDecoder && videoDecoder.state !== 'closed') return videoDecoder;
  videoDecoder = new VideoDecoder({
    output: (frame) => {
      stats.videoFramesDecoded++;
      firstReceived('video');
      stats.frameWidth = frame.displayWidth;
      stats.frameHeight = frame.displayHeight;
      const captureMs = receivedCapture.get(frame.timestamp) ?? Date.now();
      receivedCapture.delete(frame.timestamp);
      stages.record('video.decoded', Date.now() - captureMs);
      for (const dropped of videoPlayout.push(captureMs, { frame, captureMs })) dropped.frame.close();
      scheduleVideo();
    },
    error: () => {
      videoDecoder = null;
      askKeyFrame();
    },
  });
  videoDecoder.configure({ codec: VIDEO_CODEC, optimizeForLatency: true });
  return videoDecoder;
}

function ensureAudioDecoder(channels: number): AudioDecoder {
  if (audioDecoder && audioDecoder.state !== 'closed' && audioDecoderChannels === channels) return audioDecoder;
  audioDecoder?.close();
  audioDecoderChannels = channels;
  audioDecoder = new AudioDecoder({
    output: (data) => {
      stats.audioSamplesDecoded += data.numberOfFrames;
      firstReceived('audio');
      const captureMs = audioCapture.get(data.timestamp);
      audioCapture.delete(data.timestamp);
      if (captureMs === undefined) {
        data.close(); // not a frame we delivered (cannot be placed on the clock)
        return;
      }
      audioFormat = { sampleRate: data.sampleRate, channels: data.numberOfChannels };
      const ms = (data.numberOfFrames * 1000) / data.sampleRate;
      if (audioDownstream) {
        stages.record('audio.decoded', Date.now() - captureMs);
        if (!earlyAudio.admit(Date.now(), ms)) {
          data.close();
          return;
        }
        // The downstream sender numbers samples as they come: media time is what was written so far.
        audioWrittenMs ??= Date.now();
        writeSpread.record(Date.now(), audioWrittenMs);
        audioWrittenMs += ms;
        audioOutTimestamp += Math.round(ms * 1000);
        writeAudio(data);
        return;
      }
      for (const dropped of audioPlayout.push(captureMs, ms, { data, captureMs })) dropped.data.close();
      scheduleAudio();
    },
    error: () => {
      audioDecoder = null;
    },
  });
  audioDecoder.configure({ codec: AUDIO_CODEC, sampleRate: 48_000, numberOfChannels: channels });
  return audioDecoder;
}

/**
 * Hands a frame to a generator track and closes it once the write settled, whether it was taken or refused:
 * a sink that drops a frame it was given (a generator stopped meanwhile) must not leave it to the garbage
 * collector (Chromium's "A VideoFrame was garbage collected without being closed", seen at a pipeline's close
 * in the mid-call e2e). close() on a frame the sink closed already does nothing.
 */
function writeTo<F extends VideoFrame | AudioData>(writer: WritableStreamDefaultWriter<F> | null, frame: F): void {
  if (!writer || closed) {
    frame.close();
    return;
  }
  void writer.write(frame).then(
    () => frame.close(),
    () => frame.close(),
  );
}

function writeAudio(data: AudioData): void {
  writeTo(audioWriter, data);
}

/** Silence of `ms` in the format last decoded: the output stays a continuous stream. */
function silence(ms: number): AudioData | null {
  if (!audioFormat) return null;
  const frames = Math.max(1, Math.round((audioFormat.sampleRate * ms) / 1000));
  return new AudioData({
    format: 'f32-planar',
    sampleRate: audioFormat.sampleRate,
    numberOfChannels: audioFormat.channels,
    numberOfFrames: frames,
    timestamp: audioOutTimestamp,
    data: new Float32Array(frames * audioFormat.channels),
  });
}

/** Hands everything due to the audio output (silence for missing frames), then waits for the next due time. */
function scheduleAudio(): void {
  clearTimeout(audioTimer);
  audioTimer = undefined;
  if (closed) return;
  const now = Date.now();
  const { play, drop } = audioPlayout.take(now);
  for (const d of drop) d.data.close();
  for (const out of play) {
    const data = out.frame ? out.frame.data : silence(out.ms);
    if (out.frame) stages.record('audio.played', now - out.frame.captureMs);
    audioOutTimestamp += Math.round(out.ms * 1000);
    if (data) writeAudio(data);
  }
  const next = audioPlayout.nextDue();
  if (next !== null) audioTimer = setTimeout(scheduleAudio, Math.max(0, next - now));
}

/** Shows the newest due video frame (late ones are dropped), then waits for the next one's due time. */
function scheduleVideo(): void {
  clearTimeout(videoTimer);
  videoTimer = undefined;
  if (closed) return;
  const now = Date.now();
  const { show, late } = videoPlayout.take(now);
  for (const l of late) l.frame.close();
  if (show) {
    stats.videoFramesShown++;
    stages.record('video.shown', now - show.captureMs);
    latencies.push(now - show.captureMs);
    if (latencies.length > 120) latencies.shift();
    writeTo(videoWriter, show.frame);
  }
  const next = videoPlayout.nextDue();
  if (next !== null) videoTimer = setTimeout(scheduleVideo, Math.max(0, next - now));
}

function deliver(f: Omit<WireFrame, 'payload'> & { payload: BufferSource }): void {
  if (f.track === 'audio') {
    // Audio is the clock: video transits include encoding time (key frames take longer), audio's hardly any.
    clock.onArrival(f.captureMs, Date.now());
    stages.record('audio.toWorker', Date.now() - f.captureMs);
    arrivalSpread.record(Date.now(), f.captureMs);
    audioCapture.set(f.timestampUs, f.captureMs);
    if (audioCapture.size > MAX_PENDING_CAPTURE) audioCapture.delete(audioCapture.keys().next().value!);
    ensureAudioDecoder(f.channels).decode(
      new EncodedAudioChunk({ type: 'key', timestamp: f.timestampUs, data: f.payload }),
    );
    return;
  }
  if (awaitingKey && !f.key) {
    askKeyFrame();
    return;
  }
  awaitingKey = false;
  stages.record('video.toWorker', Date.now() - f.captureMs);
  const decoder = ensureVideoDecoder();
  receivedCapture.set(f.timestampUs, f.captureMs);
  if (receivedCapture.size > MAX_PENDING_CAPTURE) receivedCapture.delete(receivedCapture.keys().next().value!);
  try {
    decoder.decode(new EncodedVideoChunk({ type: f.key ? 'key' : 'delta', timestamp: f.timestampUs, data: f.payload }));
  } catch {
    videoDecoder = null;
    askKeyFrame();
  }
}

/**
 * Takes over the record layer: from now on no plaintext frame goes to or comes from the window. With `port`
 * the sealed records go to and come from the media lane's socket directly.
 */
function startLink(handOff: RecordLayerHandOff, port: MessagePort | null): void {
  link = new PipelineLink({
    handOff,
    write: (sealed) => {
      // The engine's output is a buffer of its own: it moves on without a copy.
      const own = sealed.byteOffset === 0 && sealed.byteLength === sealed.buffer.byteLength;
      const bytes = own ? sealed : sealed.slice();
      const buffer = bytes.buffer as ArrayBuffer;
      gaps['gap.sent'].record(Date.now());
      // `at`: the lane's socket worker measures how long the hop to it took (hop.toSocket).
      if (port) port.postMessage({ buffer, offset: 0, length: bytes.byteLength, at: Date.now() }, [buffer]);
      else post({ type: 'sealed', buffer, offset: 0, length: bytes.byteLength }, [buffer]);
    },
    sink: {
      deliver: (f: MediaFrame) => deliver({ ...f, payload: f.payload as Uint8Array<ArrayBuffer> }),
      control: (c) => {
        control = c;
      },
      keyFrame: () => {
        wantKey = true;
      },
    },
    onClose: (reason) => {
      if (!closed) post({ type: 'link-closed', reason });
    },
    logger,
  });
  stats.recordRoute = port ? 'lane-worker' : 'window';
  for (const sealed of sealedEarly ?? []) link.receive(sealed);
  sealedEarly = null;
  if (port) {
    lanePort = port;
    port.onmessage = (
      ev: MessageEvent<{
        type: string;
        buffer: ArrayBuffer;
        offset: number;
        at?: number;
        stalls?: Record<string, StageSummary>;
      }>,
    ) => {
      // The socket worker's send-side meters (gap.wsSent, hop.toSocket), shown with ours.
      if (ev.data.type === 'stalls') {
        laneStalls = ev.data.stalls ?? {};
        return;
      }
      // 'closed': the relay closed the channel; the window hears it too and closes the call's link.
      if (ev.data.type !== 'sealed') return;
      if (ev.data.at !== undefined) gaps['gap.atSocket'].record(ev.data.at);
      gaps['gap.toWorker'].record(Date.now());
      link?.receive(new Uint8Array(ev.data.buffer, ev.data.offset));
    };
  }
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

const statsTimer = setInterval(() => {
  stats.latencyMs = percentile(latencies, 0.5);
  stats.latencyP95Ms = percentile(latencies, 0.95);
  stats.videoFramesLate = videoPlayout.dropped;
  stats.playoutDelayMs = Math.round(clock.delayMs);
  stats.audioPlayedMs = Math.round(audioPlayout.playedMs);
  stats.audioUnderrunMs = Math.round(audioPlayout.underrunMs);
  stats.audioStallMs = Math.round(audioPlayout.dryMs);
  stats.audioSilenceMs = Math.round(audioPlayout.underrunMs - audioPlayout.dryMs);
  stats.stages = stages.summary();
  for (const [name, meter] of [
    ['audio.arrivalSpread', arrivalSpread],
    ['audio.writeSpread', writeSpread],
    ...Object.entries(gaps),
  ] as const) {
    const s = meter.summary();
    if (s) stats.stages[name] = s;
  }
  Object.assign(stats.stages, laneStalls);
  if (link) stats.link = link.flow.counters();
  post({ type: 'stats', stats: { ...stats } });
}, 250);

scope.onmessage = (ev) => {
  const m = ev.data;
  if (closed) return;
  try {
    switch (m.type) {
      case 'source':
        void pump(m.kind, m.readable);
        return;
      case 'sinks':
        audioWriter = m.audio.getWriter() as WritableStreamDefaultWriter<AudioData>;
        videoWriter = m.video.getWriter() as WritableStreamDefaultWriter<VideoFrame>;
        // Decoders ready before the first frame arrives (configure() is not free).
        ensureVideoDecoder();
        ensureAudioDecoder(1);
        return;
      case 'deliver':
        deliver(m);
        return;
      case 'record-layer':
        startLink(m.handOff, m.port);
        return;
      case 'sealed': {
        const sealed = new Uint8Array(m.buffer, m.offset, m.length);
        if (link) link.receive(sealed);
        else sealedEarly?.push(sealed);
        return;
      }
      case 'warm':
        warm();
        return;
      case 'control':
        control = m.control;
        return;
      case 'key-frame':
        wantKey = true;
        return;
      case 'audio-buffer':
        clock.followAudioBuffer(m.ms);
        if (!audioDownstream) {
          audioDownstream = true;
          // The downstream buffer takes it from here: what the playout still holds is dropped, not handed on
          // as one burst the downstream buffer would start with (AudioPlayout.handOff).
          clearTimeout(audioTimer);
          audioTimer = undefined;
          for (const q of audioPlayout.handOff()) q.data.close();
        }
        return;
      case 'close':
        closed = true;
        link?.stop();
        lanePort?.close();
        clearInterval(statsTimer);
        clearTimeout(videoTimer);
        clearTimeout(audioTimer);
        for (const q of videoPlayout.drain()) q.frame.close();
        for (const q of audioPlayout.drain()) q.data.close();
        for (const codec of [videoEncoder, audioEncoder, videoDecoder, audioDecoder]) {
          try {
            codec?.close();
          } catch {
            /* already closed */
          }
        }
        // The window terminates us once the readers are cancelled (their processors close what they hold).
        void Promise.all(Object.values(readers).map((r) => r?.cancel().catch(() => undefined))).then(() =>
          post({ type: 'closed' }),
        );
        return;
    }
  } catch (error) {
    fail((error as Error).message);
  }
};
