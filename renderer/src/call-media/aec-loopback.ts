// Relay call audio through a local RTCPeerConnection pair, so Chromium's echo canceller hears it.
//
// Chromium cancels echo only of audio that comes out of an RTCPeerConnection: on Linux (Chromium 156) a
// microphone's echoCancellation capabilities are [true, false, "remote-only"], where "remote-only" is defined
// as removing audio from tracks sourced by an RTCPeerConnection, and "all" is refused (OverconstrainedError).
// Relay media is decoded by WebCodecs into a generator track, which the echo canceller does not see: the
// contact would hear themselves. So the generator's audio goes into one local peer connection and comes out of
// the other, and the call plays the received track. Both connections live in this page: no ICE servers, host
// candidates only, the traffic never leaves the machine (it goes over the host's own address, through
// loopback). If the pair does not connect in time the generator track plays as before (no echo
// cancellation, but sound).

export interface AecLoopback {
  /** The track to play: received from the local peer connection. */
  readonly track: MediaStreamTrack;
  /** Audio samples the local receiver has played out so far (getStats), or null. */
  samplesReceived(): Promise<number | null>;
  /**
   * The local receiver's counters so far, or null: samples played out, of them concealed (made up for missing
   * audio), and its jitter buffer's total delay (s) over the samples it emitted (the average delay is
   * the ratio of their growth).
   */
  playout(): Promise<LoopbackPlayout | null>;
  close(): void;
}

export interface LoopbackPlayout {
  samples: number;
  concealed: number;
  sampleRate: number;
  jitterBufferDelayS: number;
  jitterBufferEmitted: number;
  /** The jitter buffer's own target delay (s), summed like jitterBufferDelayS; null where not reported. */
  jitterBufferTargetDelayS: number | null;
}

/** Opus in the loopback at this bitrate: the relay's own Opus is decoded before, keep the second pass clean. */
const LOOPBACK_OPUS_BITRATE = 96_000;

export async function aecLoopback(source: MediaStreamTrack, timeoutMs = 5_000): Promise<AecLoopback> {
  const config: RTCConfiguration = { iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };
  const sender = new RTCPeerConnection(config);
  const receiver = new RTCPeerConnection(config);
  // A clone goes in: the received track takes the sent track's id, and a MediaStream holds one track per id
  // (Chromium), so the source and the received track must differ.
  const sent = source.clone();
  const close = (): void => {
    sender.close();
    receiver.close();
    sent.stop();
  };
  try {
    sender.onicecandidate = (e) => {
      if (e.candidate) void receiver.addIceCandidate(e.candidate).catch(() => undefined);
    };
    receiver.onicecandidate = (e) => {
      if (e.candidate) void sender.addIceCandidate(e.candidate).catch(() => undefined);
    };
    sender.addTransceiver(sent, { direction: 'sendonly' });
    const received = new Promise<MediaStreamTrack>((resolve) => {
      receiver.ontrack = (e) => resolve(e.track);
    });
    const connected = new Promise<void>((resolve, reject) => {
      receiver.onconnectionstatechange = () => {
        if (receiver.connectionState === 'connected') resolve();
        else if (receiver.connectionState === 'failed') reject(new Error('the local audio loopback failed'));
      };
    });
    const offer = await sender.createOffer();
    await sender.setLocalDescription(offer);
    await receiver.setRemoteDescription(offer);
    const answer = await receiver.createAnswer();
    // The receiver asks for a higher Opus bitrate than the default 32 kbit/s (no network here).
    const sdp = withOpusBitrate(answer.sdp ?? '', LOOPBACK_OPUS_BITRATE);
    await receiver.setLocalDescription({ type: 'answer', sdp });
    await sender.setRemoteDescription({ type: 'answer', sdp });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the local audio loopback did not connect in time')), timeoutMs);
    });
    try {
      const [track] = await Promise.race([Promise.all([received, connected]), timeout]);
      return {
        track,
        async samplesReceived() {
          const stats = await receiver.getStats();
          for (const s of stats.values()) {
            if (s.type === 'inbound-rtp' && s.kind === 'audio')
              return (s as { totalSamplesReceived?: number }).totalSamplesReceived ?? null;
          }
          return null;
        },
        async playout() {
          const stats = await receiver.getStats();
          for (const s of stats.values()) {
            if (s.type !== 'inbound-rtp' || s.kind !== 'audio') continue;
            const r = s as {
              totalSamplesReceived?: number;
              concealedSamples?: number;
              jitterBufferDelay?: number;
              jitterBufferEmittedCount?: number;
              jitterBufferTargetDelay?: number;
            };
            return {
              samples: r.totalSamplesReceived ?? 0,
              concealed: r.concealedSamples ?? 0,
              sampleRate: 48_000,
              jitterBufferDelayS: r.jitterBufferDelay ?? 0,
              jitterBufferEmitted: r.jitterBufferEmittedCount ?? 0,
              jitterBufferTargetDelayS: r.jitterBufferTargetDelay ?? null,
            };
          }
          return null;
        },
        close,
      };
    } finally {
      clearTimeout(timer);
    }
  } catch (error) {
    close();
    throw error;
  }
}

/** Adds maxaveragebitrate to the Opus fmtp line of an SDP. */
export function withOpusBitrate(sdp: string, bitrate: number): string {
  const pt = /a=rtpmap:(\d+) opus\/48000/i.exec(sdp)?.[1];
  if (!pt) return sdp;
  return sdp.replace(new RegExp(`(a=fmtp:${pt} [^\\r\\n]*)`), (line) =>
    line.includes('maxaveragebitrate') ? line : `${line};maxaveragebitrate=${bitrate}`,
  );
}
