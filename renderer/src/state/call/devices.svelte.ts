// The call's media devices: which microphones, cameras and speakers exist, which are chosen, and opening
// them. The renderer owns the devices (getUserMedia); the call engine only gets the streams.

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

export type DeviceKind = keyof DeviceLists;

const HD = { width: { ideal: 1280 }, height: { ideal: 720 } };

/**
 * The camera constraints: HD, on the chosen camera once there is one. The size goes with the device id every
 * time: a camera opened by id alone comes at the browser's default size (640×480), so every call after the
 * first (which learns the camera's id) had a different picture from the first.
 */
function cameraConstraints(cameraId: string | null): MediaTrackConstraints {
  return cameraId ? { ...HD, deviceId: { exact: cameraId } } : HD;
}

export class CallDevices {
  readonly #media: MediaAccess | null;
  #lists = $state<DeviceLists>({ audioinput: [], videoinput: [], audiooutput: [] });
  #micId = $state<string | null>(null);
  #cameraId = $state<string | null>(null);
  #speakerId = $state<string | null>(null);

  constructor(media: MediaAccess | null) {
    this.#media = media;
  }

  get available(): boolean {
    return this.#media !== null;
  }
  get lists(): DeviceLists {
    return this.#lists;
  }
  get micId(): string | null {
    return this.#micId;
  }
  get cameraId(): string | null {
    return this.#cameraId;
  }
  get speakerId(): string | null {
    return this.#speakerId;
  }

  async refresh(): Promise<void> {
    if (!this.#media) return;
    const all = await this.#media.enumerateDevices();
    this.#lists = {
      audioinput: all.filter((d) => d.kind === 'audioinput'),
      videoinput: all.filter((d) => d.kind === 'videoinput'),
      audiooutput: all.filter((d) => d.kind === 'audiooutput'),
    };
  }

  /** Microphone (and camera) for a call, on the chosen devices. */
  async open(video: boolean): Promise<MediaStream> {
    if (!this.#media) throw new DOMException('media devices are not available', 'NotFoundError');
    const stream = await this.#media.getUserMedia({
      audio: this.#micId ? { deviceId: { exact: this.#micId } } : true,
      video: video ? cameraConstraints(this.#cameraId) : false,
    });
    // Device labels appear only after permission is granted: list devices now.
    void this.refresh().catch(() => undefined);
    this.#micId = stream.getAudioTracks()[0]?.getSettings().deviceId ?? this.#micId;
    if (video) this.#cameraId = stream.getVideoTracks()[0]?.getSettings().deviceId ?? this.#cameraId;
    return stream;
  }

  /** The chosen camera alone (video added to an audio call). */
  async openCamera(): Promise<MediaStreamTrack | null> {
    if (!this.#media) return null;
    const cam = await this.#media.getUserMedia({
      video: cameraConstraints(this.#cameraId),
    });
    const track = cam.getVideoTracks()[0] ?? null;
    if (track) this.#cameraId = track.getSettings().deviceId ?? this.#cameraId;
    void this.refresh().catch(() => undefined);
    return track;
  }

  /** Chooses a device; for a microphone or camera, opens it when `open` (a running call) and returns its track. */
  async choose(kind: DeviceKind, deviceId: string, open: boolean): Promise<MediaStreamTrack | null> {
    if (kind === 'audiooutput') {
      this.#speakerId = deviceId;
      return null;
    }
    if (kind === 'audioinput') this.#micId = deviceId;
    else this.#cameraId = deviceId;
    if (!open || !this.#media) return null;
    const fresh = await this.#media.getUserMedia(
      kind === 'audioinput' ? { audio: { deviceId: { exact: deviceId } } } : { video: cameraConstraints(deviceId) },
    );
    return (kind === 'audioinput' ? fresh.getAudioTracks()[0] : fresh.getVideoTracks()[0]) ?? null;
  }
}
