// Issue 12.16, relay only for calls: with relayOnly the peer connection gathers TURN candidates only, and
// nothing that carries one of our own addresses (a host or server-reflexive candidate, in a trickled
// candidate or inside an SDP) is sent to the contact, even from a stack that ignores the policy.
import { beforeAll, describe, expect, it } from 'vitest';
import { MediaPeer, type MediaPeerOptions, type PeerFailure } from '../../../../core/src/call/media-peer.js';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/keys.js';
import type { SimplePeerConstructor } from '../../../../core/src/platform/rtc.js';
import type { RtcData } from '../../../../core/src/platform/rtc-signal.js';
import { Emitter } from '../../../../core/src/util/emitter.js';

const HOST = 'candidate:1 1 udp 2122260223 192.168.1.23 54321 typ host generation 0';
const SRFLX = 'candidate:2 1 udp 1686052607 203.0.113.7 54321 typ srflx raddr 192.168.1.23 rport 54321';
const RELAY = 'candidate:3 1 udp 41885439 198.51.100.9 3478 typ relay raddr 203.0.113.7 rport 54321';
const FP = Array.from({ length: 32 }, () => 'AB').join(':');
const OFFER = `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 ${FP}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=${HOST}\r\na=${SRFLX}\r\na=${RELAY}\r\n`;

/** A simple-peer stand-in that gathers every kind of candidate, whatever the policy says. */
class LeakyPeer {
  static last: LeakyPeer | null = null;
  readonly events = new Emitter<Record<string, unknown>>();
  destroyed = false;
  constructor(readonly opts: { config: { iceServers: unknown[]; iceTransportPolicy?: string } }) {
    LeakyPeer.last = this;
  }
  on(event: string, listener: (value: unknown) => void): void {
    this.events.on(event, listener);
  }
  addTrack(): void {}
  destroy(): void {
    this.destroyed = true;
  }
  gather(): void {
    this.events.emit('signal', { type: 'offer', sdp: OFFER });
    for (const candidate of [HOST, SRFLX, RELAY])
      this.events.emit('signal', { type: 'candidate', candidate: { candidate, sdpMid: '0', sdpMLineIndex: 0 } });
  }
}

let me: IdentityKeyPair;
let contact: IdentityKeyPair;
beforeAll(async () => {
  [me, contact] = await Promise.all([
    generateIdentityKeyPair({ extractable: false }),
    generateIdentityKeyPair({ extractable: false }),
  ]);
});

function peer(options: Partial<MediaPeerOptions>) {
  const sent: RtcData[] = [];
  let done!: () => void;
  const allSent = new Promise<void>((resolve) => (done = resolve));
  const failures: PeerFailure[] = [];
  LeakyPeer.last = null;
  const p = new MediaPeer({
    callId: 'call-0123456789abcdef',
    role: 'caller',
    identity: me,
    peerId: contact.id,
    peerKey: contact.publicKey,
    peerName: 'Bob',
    tracks: [],
    iceServers: [],
    SimplePeer: LeakyPeer as unknown as SimplePeerConstructor,
    send: (data) => {
      sent.push(data);
      if (data.type === 'candidate' && data.candidate.candidate === RELAY) done(); // the last one gathered
      return Promise.resolve();
    },
    ...options,
  });
  p.on('failure', (f) => failures.push(f));
  return { p, sent, allSent, failures };
}

const TURN = [{ urls: 'turn:198.51.100.9:3478', username: 'u', credential: 'c' }];
const addressesIn = (sent: RtcData[]) =>
  sent
    .map((d) =>
      d.type === 'candidate' ? d.candidate.candidate : d.type === 'offer' || d.type === 'answer' ? d.sdp : '',
    )
    .join('\n');

describe('calls in relay-only mode', () => {
  it('asks for TURN candidates only and sends none of our own addresses', async () => {
    const { p, sent, allSent } = peer({ relayOnly: true, iceServers: TURN });
    p.start();
    expect(LeakyPeer.last!.opts.config.iceTransportPolicy).toBe('relay');
    LeakyPeer.last!.gather();
    await allSent;
    const wire = addressesIn(sent);
    expect(wire).not.toContain('192.168.1.23');
    expect(wire).not.toContain('typ host');
    expect(wire).not.toContain('typ srflx');
    expect(wire).toContain('typ relay');
    expect(sent.map((d) => d.type)).toEqual(['offer', 'candidate']);
    p.destroy();
  });

  it('fails at once, before any connection exists, when no TURN server is configured', async () => {
    const { p, failures } = peer({ relayOnly: true, iceServers: [{ urls: 'stun:198.51.100.9' }] });
    p.start();
    await Promise.resolve();
    expect(LeakyPeer.last).toBeNull();
    expect(failures).toEqual([
      { code: 'no-path', message: expect.stringMatching(/relay-only mode: calls need a TURN server/) },
    ]);
  });

  it('without relay only, every candidate goes (the control case)', async () => {
    const { p, sent, allSent } = peer({ iceServers: TURN });
    p.start();
    expect(LeakyPeer.last!.opts.config.iceTransportPolicy).toBeUndefined();
    LeakyPeer.last!.gather();
    await allSent;
    expect(addressesIn(sent)).toContain('typ host');
    p.destroy();
  });
});
