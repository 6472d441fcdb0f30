// Hand-written SDP in the shape real stacks produce (no WebRTC is run for unit tests).

export const CHROME_FP =
  '8A:1F:0C:6B:7E:2D:93:44:B1:C5:0A:9E:37:FD:62:18:D4:5C:A3:71:0E:B9:26:F8:4D:13:C7:5B:E0:92:6A:3F';
export const WRTC_FP =
  '3C:E7:52:9A:11:D8:6F:B4:2E:80:C9:45:7A:0D:F3:66:1B:A8:5E:C2:94:37:DA:0F:71:BC:48:E5:23:9F:06:8D';

/** Chromium offer: audio, video and a data channel, BUNDLEd, fingerprint repeated per m-section. */
export const CHROME_OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1 2',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS 6d5c3f0e-3a4e-4b8a-9d8e-0f9a1b2c3d4e',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Xy7Q',
  'a=ice-pwd:0f3kZl2mN8pQ1rS4tU7vW9xY',
  'a=ice-options:trickle',
  `a=fingerprint:sha-256 ${CHROME_FP}`,
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=sendrecv',
  'a=msid:6d5c3f0e-3a4e-4b8a-9d8e-0f9a1b2c3d4e 1b0e4f2a-7c3d-4e5f-8a9b-0c1d2e3f4a5b',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=ssrc:1234567890 cname:aB3dE5fG7hI9jK1l',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Xy7Q',
  'a=ice-pwd:0f3kZl2mN8pQ1rS4tU7vW9xY',
  'a=ice-options:trickle',
  `a=fingerprint:sha-256 ${CHROME_FP}`,
  'a=setup:actpass',
  'a=mid:1',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 goog-remb',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:Xy7Q',
  'a=ice-pwd:0f3kZl2mN8pQ1rS4tU7vW9xY',
  'a=ice-options:trickle',
  `a=fingerprint:sha-256 ${CHROME_FP}`,
  'a=setup:actpass',
  'a=mid:2',
  'a=sctp-port:5000',
  'a=max-message-size:262144',
  '',
].join('\r\n');

/** libwebrtc (@roamhq/wrtc via simple-peer) answer for a data channel only, lower-case hex. */
export const WRTC_ANSWER = [
  'v=0',
  'o=- 7301682519358437194 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=msid-semantic: WMS',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=candidate:2999745851 1 udp 2122260223 10.99.0.2 51234 typ host generation 0 network-id 1',
  'a=candidate:4233069003 1 tcp 1518280447 10.99.0.2 9 typ host tcptype active generation 0 network-id 1',
  'a=ice-ufrag:h4Kp',
  'a=ice-pwd:Qw9rT2yU5iO8pA1sD4fG7hJ0',
  'a=ice-options:trickle',
  `a=fingerprint:sha-256 ${WRTC_FP.toLowerCase()}`,
  'a=setup:active',
  'a=mid:0',
  'a=sctp-port:5000',
  'a=max-message-size:262144',
  '',
].join('\r\n');

/** Firefox style: the fingerprint once, at session level, LF line endings. */
export const SESSION_LEVEL_OFFER = [
  'v=0',
  'o=mozilla...THIS_IS_SDPARTA-99.0 5217374016528738214 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  `a=fingerprint:sha-256 ${CHROME_FP}`,
  'a=group:BUNDLE 0',
  'a=ice-options:trickle',
  'a=msid-semantic:WMS *',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=sendrecv',
  'a=ice-pwd:b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7',
  'a=ice-ufrag:1a2b3c4d',
  'a=mid:0',
  'a=setup:actpass',
  'a=sctp-port:5000',
  'a=max-message-size:1073741823',
  '',
].join('\n');

/** Replaces the fingerprint in the m-section with the given mid, as a hostile relay would. */
export function rewriteFingerprint(sdp: string, fingerprint: string, onlyMid?: string): string {
  const lines = sdp.split('\r\n');
  const sections: string[][] = [[]];
  for (const line of lines) {
    if (line.startsWith('m=')) sections.push([]);
    sections.at(-1)!.push(line);
  }
  return sections
    .map((section) => {
      const mid = section.find((l) => l.startsWith('a=mid:'))?.slice(6);
      if (onlyMid !== undefined && mid !== onlyMid) return section;
      return section.map((l) => (l.startsWith('a=fingerprint:') ? `a=fingerprint:sha-256 ${fingerprint}` : l));
    })
    .flat()
    .join('\r\n');
}
