// Minimal, DOM-free typing of simple-peer 9.11.1 for core/. The real RTCPeerConnection implementation
// (browser global or @roamhq/wrtc) is injected, so core never names DOM types.
declare module 'simple-peer' {
  export interface SignalData {
    type?: 'offer' | 'answer' | 'pranswer' | 'rollback' | 'transceiverRequest' | 'renegotiate' | 'candidate';
    sdp?: string;
    candidate?: unknown;
    transceiverRequest?: unknown;
    renegotiate?: boolean;
  }
  /** Opaque media types: core passes them through without touching them. */
  export type MediaStreamLike = object;
  export type MediaTrackLike = object;
  export interface Options {
    initiator?: boolean;
    channelName?: string;
    channelConfig?: Record<string, unknown>;
    config?: {
      iceServers?: Array<{ urls: string | string[]; username?: string; credential?: string }>;
      iceTransportPolicy?: 'all' | 'relay';
    };
    offerOptions?: Record<string, unknown>;
    answerOptions?: Record<string, unknown>;
    sdpTransform?: (sdp: string) => string;
    stream?: MediaStreamLike;
    streams?: MediaStreamLike[];
    trickle?: boolean;
    allowHalfTrickle?: boolean;
    wrtc?: unknown;
    objectMode?: boolean;
  }
  export interface DataChannelLike {
    readonly bufferedAmount: number;
    bufferedAmountLowThreshold: number;
    readonly readyState: string;
    addEventListener(type: 'bufferedamountlow', listener: () => void): void;
    removeEventListener(type: 'bufferedamountlow', listener: () => void): void;
  }
  export interface Instance {
    readonly connected: boolean;
    readonly destroyed: boolean;
    readonly _channel: DataChannelLike | null;
    readonly _pc: {
      connectionState?: string;
      iceConnectionState: string;
      sctp?: { maxMessageSize?: number } | null;
      getStats(): Promise<unknown>;
      localDescription: { sdp: string } | null;
      remoteDescription: { sdp: string } | null;
    } | null;
    signal(data: SignalData | string): void;
    send(data: string | Uint8Array): void;
    write(chunk: Uint8Array | string, cb?: (err?: Error | null) => void): boolean;
    destroy(err?: Error): void;
    addStream(stream: MediaStreamLike): void;
    removeStream(stream: MediaStreamLike): void;
    addTrack(track: MediaTrackLike, stream: MediaStreamLike): void;
    removeTrack(track: MediaTrackLike, stream: MediaStreamLike): void;
    replaceTrack(oldTrack: MediaTrackLike, newTrack: MediaTrackLike, stream: MediaStreamLike): void;
    addTransceiver(kind: string, init?: Record<string, unknown>): void;
    on(event: 'signal', listener: (data: SignalData) => void): this;
    on(event: 'connect' | 'close' | 'negotiated', listener: () => void): this;
    on(event: 'data', listener: (data: Uint8Array) => void): this;
    on(event: 'stream', listener: (stream: MediaStreamLike) => void): this;
    on(event: 'track', listener: (track: MediaTrackLike, stream: MediaStreamLike) => void): this;
    on(event: 'error', listener: (err: Error & { code?: string }) => void): this;
    on(event: 'iceStateChange', listener: (iceConnectionState: string, iceGatheringState: string) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
    once(event: string, listener: (...args: unknown[]) => void): this;
    off(event: string, listener: (...args: unknown[]) => void): this;
    removeAllListeners(event?: string): this;
  }
  interface SimplePeerConstructor {
    new (opts?: Options): Instance;
    (opts?: Options): Instance;
    readonly WEBRTC_SUPPORT: boolean;
  }
  const SimplePeer: SimplePeerConstructor;
  export default SimplePeer;
}
