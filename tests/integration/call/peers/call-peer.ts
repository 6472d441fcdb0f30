// A Parley call endpoint inside a test-bed host: the real core CallManager on a real RelayClient (ws) and
// @roamhq/wrtc, with synthetic camera and microphone (wrtc's nonstandard RTCVideoSource/RTCAudioSource) and
// sinks that count what arrives. Driven by the test over IPC (protocol.ts); one identity per process.
import { createRequire } from 'node:module';
import { nodeWebSocketFactory } from '../../../../platform/node/src/websocket.js';
import { CallManager, type Call, type CallManagerOptions } from '../../../../core/src/call/index.js';
import { issueWatchGrant } from '../../../../core/src/contacts/requests.js';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/keys.js';
import { RelayClient, relaySignerOf } from '../../../../core/src/relay/index.js';
import { mergeIceServers } from '../../../../core/src/relay/turn.js';
import type { PublicIdentityKey } from '../../../../signaling/protocol/index.js';
import { CallPeerCommand, type CallPeerEvent, type MediaReport } from './protocol.js';

// ---- @roamhq/wrtc, typed structurally (only what this script touches) ----
interface WTrack {
  readonly kind: string;
  readonly id: string;
  readonly readyState: string;
  enabled: boolean;
  stop(): void;
}
interface WStream {
  readonly id: string;
  getTracks(): WTrack[];
  getAudioTracks(): WTrack[];
  getVideoTracks(): WTrack[];
}
interface Sink {
  stop(): void;
}
interface Wrtc {
  MediaStream: new (tracks?: WTrack[]) => WStream;
  nonstandard: {
    RTCVideoSource: new () => {
      createTrack(): WTrack;
      onFrame(f: { width: number; height: number; data: Uint8Array }): void;
    };
    RTCAudioSource: new () => {
      createTrack(): WTrack;
      onData(d: {
        samples: Int16Array;
        sampleRate: number;
        bitsPerSample: number;
        channelCount: number;
        numberOfFrames: number;
      }): void;
    };
    RTCVideoSink: new (
      track: WTrack,
    ) => Sink & { onframe: ((ev: { frame: { width: number; height: number; data: Uint8Array } }) => void) | null };
    RTCAudioSink: new (
      track: WTrack,
    ) => Sink & { ondata: ((ev: { samples: Int16Array; sampleRate: number }) => void) | null };
  };
}
const require = createRequire(import.meta.url);
const wrtc = require('@roamhq/wrtc') as Wrtc;

const emit = (ev: CallPeerEvent): void => void process.send?.(ev);
if (!process.send) {
  console.error('call-peer must be started with an IPC channel (host.spawnNode)');
  process.exit(2);
}

// ---- synthetic media ----
const WIDTH = 320;
const HEIGHT = 240;
const FPS = 15;
const SAMPLE_RATE = 48_000;
const timers = new Set<NodeJS.Timeout>();

function videoTrack(): WTrack {
  const source = new wrtc.nonstandard.RTCVideoSource();
  const track = source.createTrack();
  const data = new Uint8Array(WIDTH * HEIGHT * 1.5);
  let n = 0;
  const timer = setInterval(() => {
    if (ended(track, timer)) return;
    // A luma ramp that shifts every frame (so consecutive frames differ), neutral chroma.
    n++;
    for (let y = 0; y < HEIGHT; y++) data.fill((y + n * 8) & 0xff, y * WIDTH, (y + 1) * WIDTH);
    data.fill(128, WIDTH * HEIGHT);
    source.onFrame({ width: WIDTH, height: HEIGHT, data });
  }, 1000 / FPS);
  timers.add(timer);
  return track;
}

function audioTrack(): WTrack {
  const source = new wrtc.nonstandard.RTCAudioSource();
  const track = source.createTrack();
  const frames = SAMPLE_RATE / 100;
  const samples = new Int16Array(frames);
  let t = 0;
  const timer = setInterval(() => {
    if (ended(track, timer)) return;
    for (let i = 0; i < frames; i++)
      samples[i] = Math.round(10_000 * Math.sin((2 * Math.PI * 440 * t++) / SAMPLE_RATE));
    source.onData({ samples, sampleRate: SAMPLE_RATE, bitsPerSample: 16, channelCount: 1, numberOfFrames: frames });
  }, 10);
  timers.add(timer);
  return track;
}

/** A generator stops once its track was stopped (the call stops our tracks when it ends). */
function ended(track: WTrack, timer: NodeJS.Timeout): boolean {
  if (track.readyState !== 'ended') return false;
  clearInterval(timer);
  timers.delete(timer);
  return true;
}

function localStream(video: boolean): WStream {
  const tracks = [audioTrack()];
  if (video) tracks.push(videoTrack());
  return new wrtc.MediaStream(tracks);
}

// ---- received media ----
const received: Omit<MediaReport, 'timedOut'> = {
  videoFrames: 0,
  distinctFrames: 0,
  width: null,
  height: null,
  audioSamples: 0,
  audioPeak: 0,
};
let lastSignature = -1;
const sinks: Sink[] = [];
const mediaWaiters = new Set<() => void>();

function attachSink(track: WTrack): void {
  if (track.kind === 'video') {
    const sink = new wrtc.nonstandard.RTCVideoSink(track);
    sink.onframe = ({ frame }) => {
      received.videoFrames++;
      received.width = frame.width;
      received.height = frame.height;
      // A few luma samples: changes from frame to frame when the picture advances.
      const d = frame.data;
      const signature = (d[0]! << 16) | (d[Math.floor(d.length / 3)]! << 8) | d[frame.width * 10]!;
      if (signature !== lastSignature) received.distinctFrames++;
      lastSignature = signature;
      for (const w of mediaWaiters) w();
    };
    sinks.push(sink);
  } else if (track.kind === 'audio') {
    const sink = new wrtc.nonstandard.RTCAudioSink(track);
    sink.ondata = ({ samples }) => {
      received.audioSamples += samples.length;
      for (let i = 0; i < samples.length; i++) {
        const v = Math.abs(samples[i]!);
        if (v > received.audioPeak) received.audioPeak = v;
      }
      for (const w of mediaWaiters) w();
    };
    sinks.push(sink);
  }
}

function awaitMedia(videoFrames: number, audioSamples: number, timeoutMs: number): void {
  const check = (timedOut: boolean): boolean => {
    if (!timedOut && (received.videoFrames < videoFrames || received.audioSamples < audioSamples)) return false;
    mediaWaiters.delete(waiter);
    clearTimeout(timer);
    emit({ type: 'media', report: { ...received, timedOut } });
    return true;
  };
  const waiter = (): void => void check(false);
  const timer = setTimeout(() => check(true), timeoutMs);
  if (!check(false)) mediaWaiters.add(waiter);
}

// ---- the engine ----
let identity: IdentityKeyPair | null = null;
let relay: RelayClient | null = null;
let calls: CallManager<WStream> | null = null;
let call: Call<WStream> | null = null;
const contacts = new Map<string, { key: PublicIdentityKey; name: string }>();

function watch(c: Call<WStream>): void {
  call = c;
  emit({ type: 'call', callId: c.id, direction: c.direction });
  c.on('state', ({ state, previous, end }) => {
    emit({
      type: 'state',
      callId: c.id,
      state,
      previous,
      ...(end ? { end: { code: end.code, message: end.message, remote: end.remote } } : {}),
      at: Date.now(),
    });
  });
  c.on('remote-state', (s) => emit({ type: 'remote-state', callId: c.id, ...s }));
  c.on('remote-track', ({ track }) => {
    emit({ type: 'remote-track', callId: c.id, kind: track.kind });
    attachSink(track);
  });
}

async function init(cmd: Extract<CallPeerCommand, { type: 'init' }>): Promise<void> {
  identity = await generateIdentityKeyPair({ extractable: false });
  relay = new RelayClient({
    url: cmd.relayUrl,
    signer: relaySignerOf(identity),
    webSocket: nodeWebSocketFactory,
    backoff: { initialMs: 100, maxMs: 1_000 },
  });
  const options: CallManagerOptions = {
    relay,
    identity,
    contactKey: (id) => contacts.get(id)?.key,
    contactName: (id) => contacts.get(id)?.name,
    wrtc,
    // As the Messenger does: the user's servers, then the TURN servers the relay provides, fresh at every call.
    iceServers: () => mergeIceServers(cmd.iceServers ?? [], cmd.relayTurn === false ? [] : relay!.turnServers()),
    ...(cmd.relayOnly ? { relayOnly: true } : {}),
    ...(cmd.timeouts ? { timeouts: cmd.timeouts } : {}),
  };
  calls = new CallManager<WStream>(options);
  calls.on('call', watch);
  calls.on('incoming', (c) => emit({ type: 'incoming', callId: c.id, from: c.peerId, offered: c.offered }));
  const online = new Promise<void>((resolve) => {
    const off = relay!.on('state', ({ state }) => {
      if (state === 'online') {
        off();
        resolve();
      }
    });
  });
  relay.start();
  await online;
  emit({ type: 'ready', id: identity.id, key: identity.publicKey });
}

function need<T>(value: T | null, what: string): T {
  if (value === null) throw new Error(`${what} first`);
  return value;
}

async function handle(cmd: CallPeerCommand): Promise<void> {
  switch (cmd.type) {
    case 'init':
      return init(cmd);
    case 'contact':
      contacts.set(cmd.id, { key: cmd.key, name: cmd.name });
      if (cmd.grant) need(relay, 'init').subscribe([cmd.grant]);
      return;
    case 'grant':
      emit({ type: 'grant', grant: await issueWatchGrant(need(identity, 'init'), cmd.to, Date.now() + 3600_000) });
      return;
    case 'call':
      need(calls, 'init').start(cmd.to, localStream(cmd.video), { video: cmd.video });
      return;
    case 'accept':
      return need(call, 'a call').accept(localStream(cmd.video));
    case 'decline':
      return need(call, 'a call').decline();
    case 'hangup':
      return need(call, 'a call').hangup();
    case 'mute':
      return need(call, 'a call').setMuted(cmd.muted);
    case 'camera-off':
      return need(call, 'a call').setCameraOff(cmd.off);
    case 'add-video': {
      const c = need(call, 'a call');
      const stream = need(c.localStream, 'a local stream');
      c.addVideo(videoTrack(), stream);
      return;
    }
    case 'replace-video': {
      const c = need(call, 'a call');
      const old = need(c.localStream, 'a local stream').getVideoTracks()[0];
      if (!old) throw new Error('no video track to replace');
      const fresh = videoTrack();
      c.replaceTrack(old, fresh);
      old.stop();
      return;
    }
    case 'stats':
      try {
        const stats = await need(call, 'a call').stats();
        emit({ type: 'stats', stats: { ...stats } });
      } catch (error) {
        emit({ type: 'stats', stats: null, error: String(error) });
      }
      return;
    case 'await-media':
      return awaitMedia(cmd.videoFrames, cmd.audioSamples, cmd.timeoutMs);
    case 'reset-peak':
      received.audioPeak = 0;
      return;
  }
}

process.on('message', (raw: unknown) => {
  const parsed = CallPeerCommand.safeParse(raw);
  if (!parsed.success) {
    emit({ type: 'error', message: `bad command: ${parsed.error.message}` });
    return;
  }
  handle(parsed.data).then(
    () => emit({ type: 'done', command: parsed.data.type }),
    (error: unknown) => emit({ type: 'error', message: `${parsed.data.type}: ${String(error)}` }),
  );
});

process.on('SIGTERM', () => {
  calls?.close();
  relay?.close();
  for (const s of sinks) s.stop();
  for (const t of timers) clearInterval(t);
  process.exit(0);
});
