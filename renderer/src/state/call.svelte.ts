// One call at a time, as the UI sees it. The renderer owns the devices (getUserMedia); the call
// engine (core/src/call, through services/calls.ts implementing CallControl) owns the peer connection,
// its timeouts and the diagnosis of failures, and reports back through `handle()`.
import type { IdentityId } from '../../../core/src/api.js';
import type { CallEndedCode, CallFailedCode, CallStats } from '../../../core/src/call/types.js';

export type CallPhase = 'idle' | 'outgoing' | 'incoming' | 'connecting' | 'active' | 'reconnecting' | 'ended' | 'failed';
/** Failures found before the engine is involved (media devices), plus the engine's codes. */
export type LocalFailure = 'unavailable' | 'media-denied' | 'media-not-found' | 'media-busy' | 'media-other';
export type FailureCode = CallFailedCode | LocalFailure;

export type CallEvent =
  | { type: 'incoming'; callId: string; contactId: IdentityId; video: boolean }
  | { type: 'ringing'; callId: string }
  | { type: 'connecting'; callId: string }
  | { type: 'connected'; callId: string; connectedAt: number }
  | { type: 'reconnecting'; callId: string }
  | { type: 'remote-stream'; callId: string; stream: MediaStream }
  | { type: 'remote-media'; callId: string; muted: boolean; cameraOff: boolean; video: boolean }
  | { type: 'ended'; callId: string; reason: CallEndedCode }
  | { type: 'failed'; callId: string; reason: FailureCode; message: string };

/** Commands to the call engine. */
export interface CallControl {
  /** Places a call; returns its id. Throws when another call is in progress or the contact is unknown. */
  start(contactId: IdentityId, stream: MediaStream, options: { video: boolean }): string;
  accept(callId: string, stream: MediaStream): Promise<void>;
  decline(callId: string): void;
  hangup(callId: string): void;
  /** Toggle our tracks and tell the other side. */
  setMuted(callId: string, muted: boolean): void;
  setCameraOff(callId: string, off: boolean): void;
  /** Device switch without renegotiation. */
  replaceTrack(callId: string, oldTrack: MediaStreamTrack, newTrack: MediaStreamTrack): void;
  /** Starts sending video in an audio call (renegotiates). */
  addVideo(callId: string, track: MediaStreamTrack, stream: MediaStream): void;
  stats(callId: string): Promise<CallStats | null>;
}

/** Minimal media access, injectable (navigator.mediaDevices in the app). */
export interface MediaAccess {
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  enumerateDevices(): Promise<MediaDeviceInfo[]>;
}

export interface DeviceLists {
  audioinput: MediaDeviceInfo[];
  videoinput: MediaDeviceInfo[];
  audiooutput: MediaDeviceInfo[];
}

/** Maps getUserMedia errors to a failure code. */
export function mediaFailure(err: unknown): LocalFailure {
  const name = err instanceof Error || err instanceof DOMException ? err.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'media-denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'media-not-found';
  if (name === 'NotReadableError' || name === 'AbortError') return 'media-busy';
  return 'media-other';
}

const LIVE: ReadonlySet<CallPhase> = new Set(['outgoing', 'incoming', 'connecting', 'active', 'reconnecting']);

export class CallState {
  phase = $state<CallPhase>('idle');
  callId = $state<string | null>(null);
  contactId = $state<IdentityId | null>(null);
  /** Whether we send video. */
  video = $state(false);
  /** Whether the incoming call was offered with video. */
  offeredVideo = $state(false);
  muted = $state(false);
  cameraOff = $state(false);
  remoteMuted = $state(false);
  remoteCameraOff = $state(false);
  remoteVideo = $state(false);
  localStream = $state.raw<MediaStream | null>(null);
  remoteStream = $state.raw<MediaStream | null>(null);
  connectedAt = $state<number | null>(null);
  now = $state(Date.now());
  failure = $state<FailureCode | null>(null);
  /** The engine's English explanation of a failure (shown after the translated reason). */
  failureDetail = $state<string | null>(null);
  endReason = $state<CallEndedCode | null>(null);
  stats = $state<CallStats | null>(null);
  showStats = $state(false);
  devices = $state<DeviceLists>({ audioinput: [], videoinput: [], audiooutput: [] });
  micId = $state<string | null>(null);
  cameraId = $state<string | null>(null);
  speakerId = $state<string | null>(null);
  control = $state.raw<CallControl | null>(null);
  /** Set while a device is being switched (controls stay usable; the picker shows progress). */
  switching = $state(false);

  readonly elapsedMs = $derived(this.connectedAt === null ? 0 : Math.max(0, this.now - this.connectedAt));
  readonly live = $derived(LIVE.has(this.phase));

  private timers: ReturnType<typeof setInterval>[] = [];

  constructor(private readonly media: MediaAccess | null) {}

  private clearTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
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
    // Device labels appear only after permission is granted: list devices now.
    void this.refreshDevices().catch(() => undefined);
    this.micId = stream.getAudioTracks()[0]?.getSettings().deviceId ?? this.micId;
    if (video) this.cameraId = stream.getVideoTracks()[0]?.getSettings().deviceId ?? this.cameraId;
    return stream;
  }

  private resetMedia(): void {
    this.clearTimers();
    for (const track of this.localStream?.getTracks() ?? []) track.stop();
    this.localStream = null;
    this.remoteStream = null;
    this.callId = null;
    this.connectedAt = null;
    this.stats = null;
    this.muted = false;
    this.cameraOff = false;
    this.remoteMuted = false;
    this.remoteCameraOff = false;
    this.remoteVideo = false;
  }

  private finish(phase: 'ended' | 'failed', why: { reason?: CallEndedCode; failure?: FailureCode; detail?: string }): void {
    this.resetMedia();
    this.phase = phase;
    this.endReason = why.reason ?? null;
    this.failure = why.failure ?? null;
    this.failureDetail = why.detail ?? null;
  }

  /** Closes the ended/failed screen. */
  dismiss(): void {
    if (this.phase === 'ended' || this.phase === 'failed') {
      this.phase = 'idle';
      this.contactId = null;
      this.failure = null;
      this.failureDetail = null;
      this.endReason = null;
    }
  }

  async start(contactId: IdentityId, video: boolean): Promise<void> {
    if (this.live) return;
    this.resetMedia();
    this.contactId = contactId;
    this.video = video;
    this.phase = 'outgoing';
    this.failure = null;
    this.failureDetail = null;
    this.endReason = null;
    if (!this.control) return this.finish('failed', { failure: 'unavailable' });
    let stream: MediaStream;
    try {
      stream = await this.getMedia(video);
    } catch (err) {
      return this.finish('failed', { failure: mediaFailure(err) });
    }
    // The user may have hung up while the camera was starting.
    if (this.phase !== 'outgoing' || this.contactId !== contactId) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.localStream = stream;
    try {
      this.callId = this.control.start(contactId, stream, { video });
    } catch (err) {
      this.finish('failed', { failure: 'error', detail: err instanceof Error ? err.message : String(err) });
    }
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
      this.control.decline(callId);
      return this.finish('failed', { failure: mediaFailure(err) });
    }
    if (this.callId !== callId) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.localStream = stream;
    try {
      await this.control.accept(callId, stream);
    } catch (err) {
      if (this.callId === callId) this.finish('failed', { failure: 'error', detail: err instanceof Error ? err.message : String(err) });
    }
  }

  decline(): void {
    if (this.phase !== 'incoming' || !this.callId) return;
    const id = this.callId;
    this.finish('ended', { reason: 'declined' });
    this.dismiss();
    this.control?.decline(id);
  }

  hangup(): void {
    const id = this.callId;
    this.finish('ended', { reason: 'hangup' });
    if (id) this.control?.hangup(id);
  }

  toggleMute(): void {
    if (!this.callId || !this.control) return;
    this.muted = !this.muted;
    this.control.setMuted(this.callId, this.muted);
  }

  toggleCamera(): void {
    if (!this.video || !this.callId || !this.control) return;
    this.cameraOff = !this.cameraOff;
    this.control.setCameraOff(this.callId, this.cameraOff);
  }

  /** Adds our camera to an audio call. */
  async addVideo(): Promise<void> {
    if (this.video || !this.callId || !this.control || !this.localStream || !this.media) return;
    const callId = this.callId;
    try {
      const cam = await this.media.getUserMedia({ video: this.cameraId ? { deviceId: { exact: this.cameraId } } : { width: { ideal: 1280 }, height: { ideal: 720 } } });
      const track = cam.getVideoTracks()[0];
      if (!track || this.callId !== callId || !this.localStream) {
        track?.stop();
        return;
      }
      this.cameraId = track.getSettings().deviceId ?? this.cameraId;
      this.localStream.addTrack(track);
      this.control.addVideo(callId, track, this.localStream);
      this.video = true;
      this.cameraOff = false;
      // A new MediaStream object makes the self view pick up the added track.
      this.localStream = new MediaStream(this.localStream.getTracks());
      void this.refreshDevices().catch(() => undefined);
    } catch (err) {
      this.failureDetail = mediaFailure(err);
    }
  }

  /** Switches microphone, camera or speaker mid-call; the call continues on the new device. */
  async selectDevice(kind: 'audioinput' | 'videoinput' | 'audiooutput', deviceId: string): Promise<void> {
    if (kind === 'audiooutput') {
      this.speakerId = deviceId;
      return;
    }
    const isAudio = kind === 'audioinput';
    if (isAudio) this.micId = deviceId;
    else this.cameraId = deviceId;
    if (!this.localStream || !this.media || !this.callId || !this.control) return;
    if (!isAudio && !this.video) return;
    const callId = this.callId;
    this.switching = true;
    try {
      const fresh = await this.media.getUserMedia(isAudio ? { audio: { deviceId: { exact: deviceId } } } : { video: { deviceId: { exact: deviceId } } });
      const track = isAudio ? fresh.getAudioTracks()[0] : fresh.getVideoTracks()[0];
      const old = isAudio ? this.localStream.getAudioTracks()[0] : this.localStream.getVideoTracks()[0];
      if (!track || !old || this.callId !== callId) {
        track?.stop();
        return;
      }
      this.control.replaceTrack(callId, old, track);
      this.localStream.removeTrack(old);
      old.stop();
      this.localStream.addTrack(track);
      this.localStream = new MediaStream(this.localStream.getTracks());
    } finally {
      this.switching = false;
    }
  }

  /** Events from the call engine. */
  handle(ev: CallEvent): void {
    if (ev.type === 'incoming') {
      // The engine answers a second ring 'busy' itself; this only sees rings while idle.
      if (this.live) return;
      this.resetMedia();
      this.phase = 'incoming';
      this.callId = ev.callId;
      this.contactId = ev.contactId;
      this.offeredVideo = ev.video;
      this.failure = null;
      this.failureDetail = null;
      this.endReason = null;
      return;
    }
    if (ev.callId !== this.callId) return;
    switch (ev.type) {
      case 'ringing':
        break;
      case 'connecting':
        if (this.phase === 'outgoing' || this.phase === 'incoming') this.phase = 'connecting';
        break;
      case 'connected':
        this.phase = 'active';
        this.connectedAt ??= ev.connectedAt;
        this.now = Date.now();
        if (this.timers.length === 0) {
          this.timers.push(setInterval(() => (this.now = Date.now()), 1000));
          this.timers.push(setInterval(() => void this.sampleStats(), 1000));
        }
        break;
      case 'reconnecting':
        this.phase = 'reconnecting';
        break;
      case 'remote-stream':
        this.remoteStream = ev.stream;
        this.remoteVideo = this.remoteVideo || ev.stream.getVideoTracks().length > 0;
        break;
      case 'remote-media':
        this.remoteMuted = ev.muted;
        this.remoteCameraOff = ev.cameraOff;
        this.remoteVideo = ev.video;
        break;
      case 'ended':
        // Both called at once: ours gives way, theirs rings next. Nothing to show.
        if (ev.reason === 'superseded') {
          this.resetMedia();
          this.phase = 'idle';
          return;
        }
        this.finish('ended', { reason: ev.reason });
        if (ev.reason === 'declined') this.dismiss();
        break;
      case 'failed':
        this.finish('failed', { failure: ev.reason, detail: ev.message });
        break;
    }
  }

  private async sampleStats(): Promise<void> {
    if (!this.callId || !this.control) return;
    const stats = await this.control.stats(this.callId).catch(() => null);
    if (stats && (this.phase === 'active' || this.phase === 'reconnecting')) this.stats = stats;
  }
}
