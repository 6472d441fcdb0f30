// One call at a time, as the UI sees it. The renderer owns the devices (call/devices.svelte.ts); the call
// engine (core/src/call, through services/calls.ts implementing CallControl) owns the peer connection, its
// timeouts and the diagnosis of failures, and reports back through `handle()`, whose transitions are the
// pure reducer in call/reducer.ts. The clock and live statistics are call/stats.svelte.ts.
// Named CallUiState: core's CallState is the engine's own state type.
import type { IdentityId } from '../../../core/src/api.js';
import type { CallEndedCode, CallStats } from '../../../core/src/call/types.js';
import { CallDevices, type DeviceKind, type DeviceLists, type MediaAccess } from './call/devices.svelte.js';
import {
  dismissed,
  finished,
  IDLE,
  isLive,
  reduceCallEvent,
  type CallEvent,
  type CallFacts,
  type CallPhase,
  type FailureCode,
  type LocalFailure,
} from './call/reducer.js';
import { CallStatsMonitor } from './call/stats.svelte.js';

export type { CallEvent, CallPhase, FailureCode, LocalFailure } from './call/reducer.js';
export type { DeviceLists, MediaAccess } from './call/devices.svelte.js';

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

/** Maps getUserMedia errors to a failure code. */
export function mediaFailure(err: unknown): LocalFailure {
  const name = err instanceof Error || err instanceof DOMException ? err.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'media-denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'media-not-found';
  if (name === 'NotReadableError' || name === 'AbortError') return 'media-busy';
  return 'media-other';
}

/** How long "Call ended" stays on the full-screen call view before it closes by itself. */
export const ENDED_SCREEN_MS = 2500;

/** The last call that ended normally: the chat offers "Call again" once the call view has closed. */
export interface EndedCall {
  contactId: IdentityId;
  video: boolean;
  reason: CallEndedCode;
}

export interface CallUiOptions {
  devices: CallDevices;
  monitor?: CallStatsMonitor;
  /** Timer for closing the ended screen (injectable for tests). */
  later?: (fn: () => void, ms: number) => () => void;
}

const systemLater = (fn: () => void, ms: number): (() => void) => {
  const id = setTimeout(fn, ms);
  return () => clearTimeout(id);
};

export class CallUiState {
  readonly #devices: CallDevices;
  readonly #monitor: CallStatsMonitor;
  readonly #later: (fn: () => void, ms: number) => () => void;
  #facts = $state<CallFacts>({ ...IDLE });
  /** Whether we send video. */
  #video = $state(false);
  #muted = $state(false);
  #cameraOff = $state(false);
  #localStream = $state.raw<MediaStream | null>(null);
  #control = $state.raw<CallControl | null>(null);
  /** Set while a device is being switched (controls stay usable; the picker shows progress). */
  #switching = $state(false);
  #lastEnded = $state<EndedCall | null>(null);
  /** The call shrunk to a small window so the chat and files stay usable during it. */
  #minimized = $state(false);
  #cancelClose: (() => void) | null = null;

  constructor(options: CallUiOptions) {
    this.#devices = options.devices;
    this.#monitor = options.monitor ?? new CallStatsMonitor();
    this.#later = options.later ?? systemLater;
  }

  /** The app's wiring: devices from the browser. */
  static forBrowser(media: MediaAccess | null): CallUiState {
    return new CallUiState({ devices: new CallDevices(media) });
  }

  // ---- what the UI reads ----
  get phase(): CallPhase {
    return this.#facts.phase;
  }
  get callId(): string | null {
    return this.#facts.callId;
  }
  get contactId(): IdentityId | null {
    return this.#facts.contactId;
  }
  get offeredVideo(): boolean {
    return this.#facts.offeredVideo;
  }
  get remoteMuted(): boolean {
    return this.#facts.remoteMuted;
  }
  get remoteCameraOff(): boolean {
    return this.#facts.remoteCameraOff;
  }
  get remoteVideo(): boolean {
    return this.#facts.remoteVideo;
  }
  get remoteStream(): MediaStream | null {
    return this.#facts.remoteStream;
  }
  get connectedAt(): number | null {
    return this.#facts.connectedAt;
  }
  get failure(): FailureCode | null {
    return this.#facts.failure;
  }
  /** The call failed after it had connected: it dropped, it did not fail to connect. */
  get dropped(): boolean {
    return this.#facts.dropped;
  }
  get failureDetail(): string | null {
    return this.#facts.failureDetail;
  }
  get endReason(): CallEndedCode | null {
    return this.#facts.endReason;
  }
  get video(): boolean {
    return this.#video;
  }
  get muted(): boolean {
    return this.#muted;
  }
  get cameraOff(): boolean {
    return this.#cameraOff;
  }
  get localStream(): MediaStream | null {
    return this.#localStream;
  }
  get control(): CallControl | null {
    return this.#control;
  }
  get switching(): boolean {
    return this.#switching;
  }
  get live(): boolean {
    return isLive(this.#facts.phase);
  }
  get elapsedMs(): number {
    const at = this.#facts.connectedAt;
    return at === null ? 0 : Math.max(0, this.#monitor.now - at);
  }
  get stats(): CallStats | null {
    return this.#monitor.stats;
  }
  get showStats(): boolean {
    return this.#monitor.visible;
  }
  get devices(): DeviceLists {
    return this.#devices.lists;
  }
  get micId(): string | null {
    return this.#devices.micId;
  }
  get cameraId(): string | null {
    return this.#devices.cameraId;
  }
  get speakerId(): string | null {
    return this.#devices.speakerId;
  }
  /** The call view is the small floating window (the rest of the app usable), not the full screen. */
  get minimized(): boolean {
    return this.#minimized;
  }
  /** The last call that ended normally, for the chat's "Call again" (null once another starts or it is put away). */
  get lastEnded(): EndedCall | null {
    return this.#lastEnded;
  }

  // ---- wiring ----
  /** The engine adapter (services/calls.ts) binds its commands; null when the engine stops. */
  bindControl(control: CallControl | null): void {
    this.#control = control;
  }

  refreshDevices(): Promise<void> {
    return this.#devices.refresh();
  }

  toggleStats(): void {
    this.#monitor.toggle();
  }

  hideStats(): void {
    this.#monitor.hide();
  }

  /** Shrinks a call in progress to the small window: chat, files and contacts stay usable. */
  minimize(): void {
    if (this.live) this.#minimized = true;
  }

  /** Back to the full-screen call view. */
  expand(): void {
    this.#minimized = false;
  }

  forgetLastEnded(): void {
    this.#lastEnded = null;
  }

  // ---- our media and the screen ----
  #releaseMedia(): void {
    this.#monitor.stop();
    for (const track of this.#localStream?.getTracks() ?? []) track.stop();
    this.#localStream = null;
    this.#muted = false;
    this.#cameraOff = false;
  }

  #stopClosing(): void {
    this.#cancelClose?.();
    this.#cancelClose = null;
  }

  #finish(phase: 'ended' | 'failed', why: { reason?: CallEndedCode; failure?: FailureCode; detail?: string }): void {
    this.#releaseMedia();
    if (phase === 'failed') this.#minimized = false;
    this.#facts = finished(this.#facts, phase, why);
    this.#wound();
  }

  /** A call that ended normally leaves the full screen by itself; a failure stays to explain why. */
  #wound(): void {
    const f = this.#facts;
    if (f.phase !== 'ended' || !f.contactId) return;
    this.#lastEnded = { contactId: f.contactId, video: this.#video, reason: f.endReason ?? 'hangup' };
    this.#stopClosing();
    this.#cancelClose = this.#later(() => this.dismiss(), ENDED_SCREEN_MS);
  }

  /** Closes the ended/failed screen. */
  dismiss(): void {
    this.#stopClosing();
    this.#minimized = false;
    this.#facts = dismissed(this.#facts);
  }

  // ---- user actions ----
  async start(contactId: IdentityId, video: boolean): Promise<void> {
    if (this.live) return;
    this.#stopClosing();
    this.#lastEnded = null;
    this.#releaseMedia();
    this.#facts = { ...IDLE, contactId, phase: 'outgoing' };
    this.#minimized = false;
    this.#video = video;
    const control = this.#control;
    if (!control) return this.#finish('failed', { failure: 'unavailable' });
    let stream: MediaStream;
    try {
      stream = await this.#devices.open(video);
    } catch (err) {
      return this.#finish('failed', { failure: mediaFailure(err) });
    }
    // The user may have hung up while the camera was starting.
    if (this.phase !== 'outgoing' || this.contactId !== contactId) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.#localStream = stream;
    try {
      const callId = control.start(contactId, stream, { video });
      this.#facts = { ...this.#facts, callId };
    } catch (err) {
      this.#finish('failed', { failure: 'error', detail: err instanceof Error ? err.message : String(err) });
    }
  }

  async accept(withVideo: boolean): Promise<void> {
    const control = this.#control;
    const callId = this.callId;
    if (this.phase !== 'incoming' || !callId || !control) return;
    this.#video = withVideo;
    this.#facts = { ...this.#facts, phase: 'connecting' };
    let stream: MediaStream;
    try {
      stream = await this.#devices.open(withVideo);
    } catch (err) {
      control.decline(callId);
      return this.#finish('failed', { failure: mediaFailure(err) });
    }
    if (this.callId !== callId) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.#localStream = stream;
    try {
      await control.accept(callId, stream);
    } catch (err) {
      if (this.callId === callId)
        this.#finish('failed', { failure: 'error', detail: err instanceof Error ? err.message : String(err) });
    }
  }

  decline(): void {
    const id = this.callId;
    if (this.phase !== 'incoming' || !id) return;
    this.#finish('ended', { reason: 'declined' });
    this.dismiss();
    this.#control?.decline(id);
  }

  hangup(): void {
    const id = this.callId;
    this.#finish('ended', { reason: 'hangup' });
    if (id) this.#control?.hangup(id);
  }

  toggleMute(): void {
    const id = this.callId;
    if (!id || !this.#control) return;
    this.#muted = !this.#muted;
    this.#control.setMuted(id, this.#muted);
  }

  toggleCamera(): void {
    const id = this.callId;
    if (!this.#video || !id || !this.#control) return;
    this.#cameraOff = !this.#cameraOff;
    this.#control.setCameraOff(id, this.#cameraOff);
  }

  /** Adds our camera to an audio call. */
  async addVideo(): Promise<void> {
    const callId = this.callId;
    if (this.#video || !callId || !this.#control || !this.#localStream || !this.#devices.available) return;
    try {
      const track = await this.#devices.openCamera();
      if (!track || this.callId !== callId || !this.#localStream || !this.#control) {
        track?.stop();
        return;
      }
      this.#localStream.addTrack(track);
      this.#control.addVideo(callId, track, this.#localStream);
      this.#video = true;
      this.#cameraOff = false;
      // A new MediaStream object makes the self view pick up the added track.
      this.#localStream = new MediaStream(this.#localStream.getTracks());
    } catch (err) {
      this.#facts = { ...this.#facts, failureDetail: mediaFailure(err) };
    }
  }

  /** Switches microphone, camera or speaker mid-call; the call continues on the new device. */
  async selectDevice(kind: DeviceKind, deviceId: string): Promise<void> {
    const callId = this.callId;
    const inCall = !!this.#localStream && !!callId && !!this.#control && (kind !== 'videoinput' || this.#video);
    if (kind === 'audiooutput' || !inCall) {
      await this.#devices.choose(kind, deviceId, false);
      return;
    }
    this.#switching = true;
    try {
      const track = await this.#devices.choose(kind, deviceId, true);
      const local = this.#localStream;
      const old = kind === 'audioinput' ? local?.getAudioTracks()[0] : local?.getVideoTracks()[0];
      if (!track || !old || !local || this.callId !== callId || !this.#control || !callId) {
        track?.stop();
        return;
      }
      this.#control.replaceTrack(callId, old, track);
      local.removeTrack(old);
      old.stop();
      local.addTrack(track);
      this.#localStream = new MediaStream(local.getTracks());
    } finally {
      this.#switching = false;
    }
  }

  /** Events from the call engine. */
  handle(ev: CallEvent): void {
    const { facts, effect } = reduceCallEvent(this.#facts, ev);
    if (facts === this.#facts && effect === 'none') return;
    switch (effect) {
      case 'release':
        this.#minimized = false;
        this.#stopClosing();
        if (ev.type === 'incoming') this.#lastEnded = null;
        this.#releaseMedia();
        break;
      case 'failed':
        this.#minimized = false;
        this.#releaseMedia();
        break;
      case 'ended':
      case 'dismissed':
        this.#releaseMedia();
        break;
      default:
        break;
    }
    const before = this.#facts;
    this.#facts = facts;
    if (effect === 'connected') {
      const callId = facts.callId;
      const control = this.#control;
      this.#monitor.start(
        () => (callId && control ? control.stats(callId) : Promise.resolve(null)),
        () => this.callId === callId && (this.phase === 'active' || this.phase === 'reconnecting'),
      );
    } else if (effect === 'ended') {
      this.#wound();
    } else if (effect === 'dismissed') {
      // Declined: the screen closes at once; the chat still offers to call back.
      const contactId = before.contactId;
      if (contactId)
        this.#lastEnded = { contactId, video: this.#video, reason: ev.type === 'ended' ? ev.reason : 'hangup' };
      this.#stopClosing();
    }
  }
}
