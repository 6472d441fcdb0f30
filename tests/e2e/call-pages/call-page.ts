// Browser entry of the call test page: core's CallManager on the browser's RTCPeerConnection, WebSocket and
// WebCrypto, with Chromium's fake camera and microphone. Same command/event protocol as the Node call peer
// (tests/integration/call/peers/protocol.ts), so one test can drive either. Bundled at test time (bundle.ts).
import { CallManager, type Call } from '../../../core/src/call/index.js';
import { issueWatchGrant } from '../../../core/src/contacts/requests.js';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../core/src/identity/keys.js';
import type { WebSocketLike } from '../../../core/src/platform/types.js';
import { RelayClient, relaySignerOf } from '../../../core/src/relay/index.js';
import type { PublicIdentityKey } from '../../../signaling/protocol/index.js';
import { CallPeerCommand, type CallPeerEvent, type MediaReport } from '../../integration/call/peers/protocol.js';

interface PageGlobals {
  __callEmit(ev: CallPeerEvent): void;
  __callPage: { handle(raw: unknown): Promise<void> };
}
const g = globalThis as unknown as PageGlobals;
const emit = (ev: CallPeerEvent): void => g.__callEmit(ev);

let identity: IdentityKeyPair | null = null;
let relay: RelayClient | null = null;
let calls: CallManager<MediaStream> | null = null;
let call: Call<MediaStream> | null = null;
const contacts = new Map<string, { key: PublicIdentityKey; name: string }>();

const received = { videoFrames: 0, distinctFrames: 0, width: null as number | null, height: null as number | null };
let lastMediaTime = -1;
let audioPeakFloor = 0;

function media(video: boolean): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({ audio: true, video: video ? { width: 320, height: 240 } : false });
}

/** Plays a remote video track in a muted <video> and counts the frames it presents (requestVideoFrameCallback). */
function watchVideo(track: MediaStreamTrack): void {
  const el = document.createElement('video');
  el.muted = true;
  el.autoplay = true;
  el.playsInline = true;
  el.srcObject = new MediaStream([track]);
  document.body.append(el);
  const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
    received.videoFrames++;
    received.width = meta.width;
    received.height = meta.height;
    if (meta.mediaTime !== lastMediaTime) received.distinctFrames++;
    lastMediaTime = meta.mediaTime;
    el.requestVideoFrameCallback(onFrame);
  };
  el.requestVideoFrameCallback(onFrame);
  void el.play().catch(() => undefined);
}

/** Chromium decodes remote audio only while something plays it: an <audio> element, like the app's. */
function playAudio(track: MediaStreamTrack): void {
  const el = document.createElement('audio');
  el.autoplay = true;
  el.srcObject = new MediaStream([track]);
  document.body.append(el);
  void el.play().catch(() => undefined);
}

/** Received audio from the inbound-rtp stats (samples decoded, level as a 16-bit peak). */
async function audioStats(): Promise<{ samples: number; peak: number }> {
  const records = (await call?.rawStats()) ?? [];
  let samples = 0;
  let peak = 0;
  for (const r of records) {
    if (r.type !== 'inbound-rtp' || r.kind !== 'audio') continue;
    samples += typeof r.totalSamplesReceived === 'number' ? r.totalSamplesReceived : 0;
    peak = Math.max(peak, typeof r.audioLevel === 'number' ? Math.round(r.audioLevel * 32767) : 0);
  }
  return { samples, peak: Math.max(0, peak - audioPeakFloor) };
}

async function awaitMedia(videoFrames: number, audioSamples: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  // Audio counters live in getStats(), which has no change event: sample every 200 ms, bounded by the deadline.
  for (;;) {
    const audio = await audioStats();
    const done = received.videoFrames >= videoFrames && audio.samples >= audioSamples;
    const timedOut = !done && performance.now() >= deadline;
    if (done || timedOut) {
      const report: MediaReport = { ...received, audioSamples: audio.samples, audioPeak: audio.peak, timedOut };
      emit({ type: 'media', report });
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function watch(c: Call<MediaStream>): void {
  call = c;
  emit({ type: 'call', callId: c.id, direction: c.direction });
  c.on('state', ({ state, previous, end }) =>
    emit({
      type: 'state',
      callId: c.id,
      state,
      previous,
      ...(end ? { end: { code: end.code, message: end.message, remote: end.remote } } : {}),
      at: Date.now(),
    }),
  );
  c.on('remote-state', (s) => emit({ type: 'remote-state', callId: c.id, ...s }));
  c.on('remote-track', ({ track }) => {
    emit({ type: 'remote-track', callId: c.id, kind: track.kind });
    if (track.kind === 'video') watchVideo(track);
    else if (track.kind === 'audio') playAudio(track);
  });
}

async function handle(cmd: CallPeerCommand): Promise<void> {
  switch (cmd.type) {
    case 'init': {
      identity = await generateIdentityKeyPair({ extractable: false });
      relay = new RelayClient({
        url: cmd.relayUrl,
        signer: relaySignerOf(identity),
        webSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
        backoff: { initialMs: 100, maxMs: 1_000 },
      });
      calls = new CallManager<MediaStream>({
        relay,
        identity,
        contactKey: (id) => contacts.get(id)?.key,
        contactName: (id) => contacts.get(id)?.name,
        iceServers: cmd.iceServers ?? [],
        ...(cmd.timeouts ? { timeouts: cmd.timeouts } : {}),
      });
      calls.on('call', watch);
      calls.on('incoming', (c) => emit({ type: 'incoming', callId: c.id, from: c.peerId, offered: c.offered }));
      const r = relay;
      const online = new Promise<void>((resolve) => {
        const off = r.on('state', ({ state }) => {
          if (state === 'online') {
            off();
            resolve();
          }
        });
      });
      r.start();
      await online;
      emit({ type: 'ready', id: identity.id, key: identity.publicKey });
      return;
    }
    case 'contact':
      contacts.set(cmd.id, { key: cmd.key, name: cmd.name });
      if (cmd.grant) relay?.subscribe([cmd.grant]);
      return;
    case 'grant':
      emit({ type: 'grant', grant: await issueWatchGrant(identity!, cmd.to, Date.now() + 3600_000) });
      return;
    case 'call':
      calls!.start(cmd.to, await media(cmd.video), { video: cmd.video });
      return;
    case 'accept':
      return call!.accept(await media(cmd.video));
    case 'decline':
      return call!.decline();
    case 'hangup':
      return call!.hangup();
    case 'mute':
      return call!.setMuted(cmd.muted);
    case 'camera-off':
      return call!.setCameraOff(cmd.off);
    case 'add-video': {
      const track = (await media(true)).getVideoTracks()[0]!;
      call!.addVideo(track, call!.localStream!);
      return;
    }
    case 'replace-video': {
      const old = call!.localStream!.getVideoTracks()[0]!;
      const fresh = (await media(true)).getVideoTracks()[0]!;
      call!.replaceTrack(old, fresh);
      old.stop();
      return;
    }
    case 'stats':
      try {
        emit({ type: 'stats', stats: { ...(await call!.stats()) } });
      } catch (error) {
        emit({ type: 'stats', stats: null, error: String(error) });
      }
      return;
    case 'await-media':
      return awaitMedia(cmd.videoFrames, cmd.audioSamples, cmd.timeoutMs);
    case 'reset-peak':
      audioPeakFloor = (await audioStats()).peak;
      return;
  }
}

g.__callPage = {
  async handle(raw: unknown): Promise<void> {
    const parsed = CallPeerCommand.safeParse(raw);
    if (!parsed.success) {
      emit({ type: 'error', message: `bad command: ${parsed.error.message}` });
      return;
    }
    try {
      await handle(parsed.data);
      emit({ type: 'done', command: parsed.data.type });
    } catch (error) {
      emit({ type: 'error', message: `${parsed.data.type}: ${String(error)}` });
    }
  },
};
