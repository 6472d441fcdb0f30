// Media objects are opaque to core (no DOM types here): the minimal structural shapes the call engine
// touches. A browser MediaStream/MediaStreamTrack and @roamhq/wrtc's both fit them.

export interface TrackLike {
  readonly kind: string;
  readonly id: string;
  enabled: boolean;
  stop(): void;
}

export interface StreamLike {
  readonly id: string;
  getTracks(): TrackLike[];
  getAudioTracks(): TrackLike[];
  getVideoTracks(): TrackLike[];
}

/** The track type of a stream type (MediaStreamTrack for MediaStream). */
export type TrackOf<S extends StreamLike> = ReturnType<S['getTracks']>[number];
