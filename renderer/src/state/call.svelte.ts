// One call at a time, as the UI sees it. The renderer owns the devices (getUserMedia); the call
// engine (core/src/call, through an adapter implementing CallControl) owns the peer connection and
// reports back through `handle()`.
import type { IdentityId } from '../../../core/src/api.js';
import { summarizeStats, type CallStatsSummary } from '../lib/call-stats.js';

export type CallPhase = 'idle' | 'outgoing' | 'incoming' | 'connecting' | 'active' | 'ended' | 'failed';
export type EndReason = 'hangup' | 'remote-hangup' | 'declined' | 'remote-declined' | 'busy' | 'no-answer' | 'missed';

export type CallEvent =
  | { type: 'incoming'; callId: string; contactId: IdentityId; video: boolean }
  | { type: 'ringing'; callId: string }
  | { type: 'connecting'; callId: string }
  | { type: 'connected'; callId: string }
  | { type: 'remote-stream'; callId: string; stream: MediaStream }
  | { type: 'remote-media'; callId: string; muted: boolean; cameraOff: boolean; video: boolean }
  | { type: 'ended'; callId: string; reason: EndReason }
  | { type: 'failed'; callId: string; reason: string };

/** Commands to the call engine. */
export interface CallControl {
  start(contactId: IdentityId, stream: MediaStream, options: { video: boolean }): Promise<string>;
  accept(callId: string, stream: MediaStream): Promise<void>;
  decline(callId: string): Promise<void>;
  hangup(callId: string): Promise<void>;
  /** Swaps a sending track (device switch, or adding video when oldTrack is null) without renegotiating the call away. */
  replaceTrack(callId: string, oldTrack: MediaStreamTrack | null, newTrack: MediaStreamTrack, stream: MediaStream): Promise<void>;
  /** Tells the other side our mute / camera state (their UI shows it). */
  setMediaState(callId: string, state: { muted: boolean; cameraOff: boolean; video: boolean }): Promise<void>;
  getStats(callId: string): Promise<Iterable<Record<string, unknown> & { type: string; id: string }> | null>;
}

/** Minimal media access, injectable for tests (navigator.mediaDevices in the app). */
export interface MediaAccess {
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  enumerateDevices(): Promise<MediaDeviceInfo[]>;
}

export interface DeviceLists {
  audioinput: MediaDeviceInfo[];
  videoinput: MediaDeviceInfo[];
  audiooutput: MediaDeviceInfo[];
}

/** How long "connecting" may last before the call says it cannot connect. */
export const CONNECT_TIMEOUT_MS = 12_000;
/** How long an unanswered outgoing call rings. */
export const RING_TIMEOUT_MS = 45_000;

/** Maps getUserMedia errors to a message key suffix. */
export function mediaErrorCode(err: unknown): 'denied' | 'not-found' | 'busy' | 'other' {
  const name = err instanceof Error || err instanceof DOMException ? err.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'not-found';
  if (name === 'NotReadableError' || name === 'AbortError') return 'busy';
  return 'other';
}

export class CallState {
  phase = $state<CallPhase>('idle');
  callId = $state<string | null>(null);
  contactId = $state<IdentityId | null>(null);
  /** Whether we send video. */
  video = $state(false);
  /** Whether the call was offered with video (incoming). */
  offeredVideo = $state(false);
  muted = $state(false);
  cameraOff = $state(false);
  remoteMuted = $state(false);
  remoteCameraOff = $state(false);
  remoteVideo = $state(false);
  localStream = $state.raw<MediaStream | null>(null);
  remoteStream = $state.raw<MediaStream | null>(null);
  startedAt = $state<number | null>(null);
  now = $state(Date.now());
  /** Why the call failed or ended, as a message key suffix or engine text. */
  failure = $state<string | null>(null);
  endReason = $state<EndReason | null>(null);
  stats = $state<CallStatsSummary | null>(null);
  showStats = $state(false);
  devices = $state<DeviceLists>({ audioinput: [], videoinput: [], audiooutput: [] });
  micId = $state<string | null>(null);
  cameraId = $state<string | null>(null);
  speakerId = $state<string | null>(null);
  control = $state.raw<CallControl | null>(null);

  readonly elapsedMs = $derived(this.startedAt === null ? 0 : Math.max(0, this.now - this.startedAt));
  readonly inCall = $derived(this.phase !== 'idle');

  private timers: ReturnType<typeof setInterval>[] = [];
  private deadline: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly media: MediaAccess | null) {}

  private clearTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = null;
  }

  private setDeadline(ms: number, onExpire: () => void): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = setTimeout(onExpire, ms);
  }

  async refreshDevices(): Promise<void> {
    if (!this.media) return;
    const all = await this.media.enumerateDevices();
    this.devices = {
      audioinput: all.filter((d) => d.kind === 'audioinput'),
      videoinput: all.filter((d) => d.kind === 'videoinput'),
      audiooutput: all.filter((d) => d.kind === 'audiooutput'),
    };
  }

  private async getMedia(video: boolean): Promise<MediaStream> {
    if (!this.media) throw new DOMException('media devices are not available', 'NotFoundError');
    const stream = await this.media.getUserMedia({
      audio: this.micId ? { deviceId: { exact: this.micId } } : true,
      video: video ? (this.cameraId ? { deviceId: { exact: this.cameraId } } : { width: { ideal: 1280 }, height: { ideal: 720 } }) : false,
    });
    // Labels appear only after permission is granted: list devices now.
    void this.refreshDevices().catch(() => undefined);
    this.micId ??= stream.getAudioTracks()[0]?.getSettings().deviceId ?? null;
    if (video) this.cameraId ??= stream.getVideoTracks()[0]?.getSettings().deviceId ?? null;
    return stream;
  }

  private reset(): void {
    this.clearTimers();
    for (const track of this.localStream?.getTracks() ?? []) track.stop();
    this.localStream = null;
    this.remoteStream = null;
    this.callId = null;
    this.startedAt = null;
    this.stats = null;
    this.muted = false;
    this.cameraOff = false;
    this.remoteMuted = false;
    this.remoteCameraOff = false;
    this.remoteVideo = false;
  }

  private finish(phase: 'ended' | 'failed', why: { reason?: EndReason; failure?: string }): void {
    this.reset();
    this.phase = phase;
    this.endReason = why.reason ?? null;
    this.failure = why.failure ?? null;
  }

  /** Closes the ended/failed banner. */
  dismiss(): void {
    if (this.phase === 'ended' || this.phase === 'failed') {
      this.phase = 'idle';
      this.contactId = null;
      this.failure = null;
      this.endReason = null;
    }
  }

  async start(contactId: IdentityId, video: boolean): Promise<void> {
    if (this.phase !== 'idle' && this.phase !== 'ended' && this.phase !== 'failed') return;
    this.reset();
    this.contactId = contactId;
    this.video = video;
    this.phase = 'outgoing';
    this.failure = null;
    this.endReason = null;
    if (!this.control) return this.finish('failed', { failure: 'unavailable' });
    let stream: MediaStream;
    try {
      stream = await this.getMedia(video);
    } catch (err) {
      return this.finish('failed', { failure: `media-${mediaErrorCode(err)}` });
    }
    this.localStream = stream;
    try {
      this.callId = await this.control.start(contactId, stream, { video });
    } catch (err) {
      return this.finish('failed', { failure: err instanceof Error ? err.message : String(err) });
    }
    this.setDeadline(RING_TIMEOUT_MS, () => {
      if (this.phase === 'outgoing' && this.callId) {
        void this.control?.hangup(this.callId).catch(() => undefined);
        this.finish('ended', { reason: 'no-answer' });
      }
    });
  }

  async accept(withVideo: boolean): Promise<void> {
    if (this.phase !== 'incoming' || !this.callId || !this.control) return;
    const callId = this.callId;
    this.video = withVideo;
    this.phase = 'connecting';
    let stream: MediaStream;
    try {
      stream = await this.getMedia(withVideo);
    } catch (err) {
      void this.control.decline(callId).catch(() => undefined);
      return this.finish('failed', { failure: `media-${mediaErrorCode(err)}` });
    }
    this.localStream = stream;
    this.armConnectTimeout();
    try {
      await this.control.accept(callId, stream);
    } catch (err) {
      this.finish('failed', { failure: err instanceof Error ? err.message : String(err) });
    }
  }

  async decline(): Promise<void> {
    if (this.phase !== 'incoming' || !this.callId) return;
    const id = this.callId;
    this.finish('ended', { reason: 'declined' });
    this.dismiss();
    await this.control?.decline(id).catch(() => undefined);
  }

  async hangup(): Promise<void> {
    const id = this.callId;
    if (!id) {
      this.finish('ended', { reason: 'hangup' });
      return;
    }
    this.finish('ended', { reason: 'hangup' });
    await this.control?.hangup(id).catch(() => undefined);
  }

  private armConnectTimeout(): void {
    this.setDeadline(CONNECT_TIMEOUT_MS, () => {
      if ((this.phase === 'connecting' || this.phase === 'outgoing') && this.callId) {
        const id = this.callId;
        this.finish('failed', { failure: 'timeout' });
        void this.control?.hangup(id).catch(() => undefined);
      }
    });
  }

  private pushMediaState(): void {
    if (this.callId) void this.control?.setMediaState(this.callId, { muted: this.muted, cameraOff: this.cameraOff, video: this.video }).catch(() => undefined);
  }

  toggleMute(): void {
    this.muted = !this.muted;
    for (const t of this.localStream?.getAudioTracks() ?? []) t.enabled = !this.muted;
    this.pushMediaState();
  }

  toggleCamera(): void {
    if (!this.video) return;
    this.cameraOff = !this.cameraOff;
    for (const t of this.localStream?.getVideoTracks() ?? []) t.enabled = !this.cameraOff;
    this.pushMediaState();
  }

  /** Adds our camera to an audio call. */
  async addVideo(): Promise<void> {
    if (this.video || !this.callId || !this.control || !this.localStream || !this.media) return;
    try {
      const cam = await this.media.getUserMedia({ video: this.cameraId ? { deviceId: { exact: this.cameraId } } : true });
      const track = cam.getVideoTracks()[0];
      if (!track) return;
      this.cameraId = track.getSettings().deviceId ?? this.cameraId;
      this.localStream.addTrack(track);
      await this.control.replaceTrack(this.callId, null, track, this.localStream);
      this.video = true;
      this.cameraOff = false;
      // A new MediaStream object makes the self view pick up the added track.
      this.localStream = new MediaStream(this.localStream.getTracks());
      this.pushMediaState();
    } catch (err) {
      this.failure = `media-${mediaErrorCode(err)}`;
    }
  }

  /** Switches microphone or camera mid-call: a new track replaces the old one on the same sender. */
  async selectDevice(kind: 'audioinput' | 'videoinput' | 'audiooutput', deviceId: string): Promise<void> {
    if (kind === 'audiooutput') {
      this.speakerId = deviceId;
      return;
    }
    if (kind === 'audioinput') this.micId = deviceId;
    else this.cameraId = deviceId;
    if (!this.localStream || !this.media || !this.callId || !this.control) return;
    const isAudio = kind === 'audioinput';
    if (!isAudio && !this.video) return;
    const fresh = await this.media.getUserMedia(isAudio ? { audio: { deviceId: { exact: deviceId } } } : { video: { deviceId: { exact: deviceId } } });
    const track = isAudio ? fresh.getAudioTracks()[0] : fresh.getVideoTracks()[0];
    if (!track) return;
    const old = isAudio ? this.localStream.getAudioTracks()[0] : this.localStream.getVideoTracks()[0];
    track.enabled = isAudio ? !this.muted : !this.cameraOff;
    await this.control.replaceTrack(this.callId, old ?? null, track, this.localStream);
    if (old) {
      this.localStream.removeTrack(old);
      old.stop();
    }
    this.localStream.addTrack(track);
    this.localStream = new MediaStream(this.localStream.getTracks());
  }

  /** Events from the call engine. */
  handle(ev: CallEvent): void {
    if (ev.type === 'incoming') {
      if (this.phase !== 'idle' && this.phase !== 'ended' && this.phase !== 'failed') {
        // Already in a call: the engine is told we are busy.
        void this.control?.decline(ev.callId).catch(() => undefined);
        return;
      }
      this.reset();
      this.phase = 'incoming';
      this.callId = ev.callId;
      this.contactId = ev.contactId;
      this.offeredVideo = ev.video;
      this.failure = null;
      this.endReason = null;
      this.setDeadline(RING_TIMEOUT_MS, () => {
        if (this.phase === 'incoming') this.finish('ended', { reason: 'missed' });
      });
      return;
    }
    if (ev.callId !== this.callId) return;
    switch (ev.type) {
      case 'ringing':
        break;
      case 'connecting':
        if (this.phase === 'outgoing' || this.phase === 'incoming') this.phase = 'connecting';
        this.armConnectTimeout();
        break;
      case 'connected':
        if (this.deadline) clearTimeout(this.deadline);
        this.deadline = null;
        this.phase = 'active';
        this.startedAt ??= Date.now();
        this.now = Date.now();
        this.timers.push(setInterval(() => (this.now = Date.now()), 1000));
        this.timers.push(setInterval(() => void this.sampleStats(), 1000));
        this.pushMediaState();
        break;
      case 'remote-stream':
        this.remoteStream = ev.stream;
        this.remoteVideo = ev.stream.getVideoTracks().length > 0;
        break;
      case 'remote-media':
        this.remoteMuted = ev.muted;
        this.remoteCameraOff = ev.cameraOff;
        this.remoteVideo = ev.video;
        break;
      case 'ended':
        this.finish('ended', { reason: ev.reason });
        break;
      case 'failed':
        this.finish('failed', { failure: ev.reason });
        break;
    }
  }

  private async sampleStats(): Promise<void> {
    if (!this.callId || !this.control) return;
    const report = await this.control.getStats(this.callId).catch(() => null);
    if (!report || this.phase !== 'active') return;
    this.stats = summarizeStats(report, Date.now(), this.stats);
  }
}
