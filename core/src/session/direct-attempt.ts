// One direct (WebRTC data channel) attempt: it becomes a DirectTransport (direct-transport.ts) once verified.
//
// Trust: the offer and the answer each carry the sender's DTLS fingerprint and its identity signature
// (crypto/sdp-fingerprint.ts, purpose 'session': sid, role, both ids, fingerprint). The receiver checks
// the signature with the contact's key (else: impersonation) and that the fingerprint in the SDP it
// actually received is the signed one (else: the relay rewrote it). After connect, before any data, both
// sides exchange a signed transcript (both ids, sid, both fingerprints as taken from local/remote
// descriptions) over the channel.
import SimplePeer, { type Instance as PeerInstance, type SignalData } from 'simple-peer';
import type { PublicIdentityKey } from '../../../signaling/protocol/index.js';
import { otherRole, type Role } from '../crypto/roles.js';
import { SdpTrustError, signSdpFingerprint, verifySdpFingerprint } from '../crypto/sdp-fingerprint.js';
import { signTranscript, transcriptFromSdp, verifyTranscript } from '../crypto/transcript.js';
import type { IdentityKeyPair } from '../identity/keys.js';
import type { IceServer, SimplePeerConstructor } from '../platform/rtc.js';
import { toRtcData } from '../platform/rtc-signal.js';
import { silentLogger, type Logger } from '../platform/types.js';
import { fromUtf8, utf8 } from '../util/bytes.js';
import { deferred } from '../util/deferred.js';
import { Emitter } from '../util/emitter.js';
import { DirectTransport, MSG_TRANSCRIPT } from './direct-transport.js';
import { SessionError } from './errors.js';
import type { RtcSignal } from './signals.js';

export interface DirectAttemptOptions {
  sid: string;
  role: Role;
  identity: IdentityKeyPair;
  peerId: string;
  peerKey: PublicIdentityKey;
  /** Sends a signal to the peer through the relay. */
  sendSignal(data: Record<string, unknown>): Promise<void>;
  /** RTCPeerConnection implementation for Node (@roamhq/wrtc); undefined in browsers. */
  wrtc?: unknown;
  /** Only what the user configured; never a public default. */
  iceServers?: IceServer[];
  /** ICE `disconnected` for longer than this counts as a drop. Default 2500 ms. */
  disconnectGraceMs?: number;
  SimplePeer?: SimplePeerConstructor;
  logger?: Logger;
}

interface AttemptEvents {
  /** Offer and answer are both applied: from here ICE alone decides (used for stall detection). */
  described: void;
}

export class DirectAttempt {
  readonly sid: string;
  readonly role: Role;
  /** Resolves with the verified transport; rejects with a SessionError. */
  readonly ready: Promise<DirectTransport>;
  readonly #o: DirectAttemptOptions;
  readonly #log: Logger;
  readonly #peer: PeerInstance;
  readonly #result = deferred<DirectTransport>();
  readonly #events = new Emitter<AttemptEvents>();
  #remoteChain: Promise<void> = Promise.resolve();
  #remoteDescribed = false;
  #done = false;
  #transport: DirectTransport | null = null;
  #beforeConnect: Uint8Array[] = [];

  constructor(options: DirectAttemptOptions) {
    this.#o = options;
    this.sid = options.sid;
    this.role = options.role;
    this.#log = options.logger ?? silentLogger;
    this.ready = this.#result.promise;
    const Peer = options.SimplePeer ?? SimplePeer;
    this.#peer = new Peer({
      initiator: options.role === 'initiator',
      trickle: true,
      wrtc: options.wrtc,
      config: { iceServers: options.iceServers ?? [] },
      channelConfig: { ordered: true },
    });
    // Browsers: an inactive video m-section, never used, so Chromium's WebRTC gives the connection's UDP socket
    // the receive buffer it gives video (1 MiB asked; the kernel caps it at net.core.rmem_max) instead of a data
    // channel's 64 KiB. With 64 KiB the receiving host dropped 1-7 % of a transfer's datagrams whenever its
    // network thread waited for a core, and each drop halved SCTP's congestion window (bench:e2e, two Chromiums:
    // 400-1800 drops per 30 MB, none with the m-section). The offer carries it, so one side adding it is enough.
    if (options.role === 'initiator' && !options.wrtc && typeof this.#peer.addTransceiver === 'function')
      this.#peer.addTransceiver('video', { direction: 'inactive' });
    this.#peer.on('signal', (data) => void this.#onLocalSignal(data as SignalData));
    this.#peer.on('error', (err) =>
      this.#fail(new SessionError('failed', `direct connection failed: ${(err as Error).message}`)),
    );
    this.#peer.on('close', () =>
      this.#fail(new SessionError('failed', 'direct connection closed before it was ready')),
    );
    this.#peer.on('connect', () => void this.#onConnect());
    // The peer may speak (its transcript) before our 'connect' fires: simple-peer awaits getStats first.
    this.#peer.on('data', (d) => {
      if (this.#transport) this.#transport.receive(d);
      else if (this.#beforeConnect.length < 16) this.#beforeConnect.push(new Uint8Array(d));
    });
  }

  on<K extends keyof AttemptEvents>(event: K, listener: (v: AttemptEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Feeds a validated signal from the peer (offer, answer, candidate) for this sid. */
  onRemoteSignal(msg: RtcSignal): void {
    this.#remoteChain = this.#remoteChain
      .then(() => this.#applyRemote(msg))
      .catch((error: unknown) => {
        this.#fail(
          error instanceof SessionError
            ? error
            : new SessionError('protocol', `bad signal from the peer: ${(error as Error).message}`),
        );
      });
  }

  destroy(reason = 'destroyed'): void {
    this.#fail(new SessionError('failed', reason));
  }

  async #applyRemote(msg: RtcSignal): Promise<void> {
    if (this.#done && !this.#transport) return;
    const s = msg.signal;
    if (s.type === 'candidate') {
      this.#peer.signal({ type: 'candidate', candidate: s.candidate });
      return;
    }
    const expected = otherRole(this.role);
    if ((s.type === 'offer') !== (expected === 'initiator'))
      throw new SessionError('protocol', `unexpected ${s.type} from the peer`);
    if (this.#remoteDescribed) throw new SessionError('protocol', `a second ${s.type} from the peer`);
    try {
      await verifySdpFingerprint({
        purpose: 'session',
        scopeId: this.sid,
        senderRole: expected,
        senderId: this.#o.peerId,
        senderKey: this.#o.peerKey,
        receiverId: this.#o.identity.id,
        sdp: s.sdp,
        fp: msg.fp && msg.sig ? { fingerprint: msg.fp, sig: msg.sig } : undefined,
      });
    } catch (error) {
      if (!(error instanceof SdpTrustError)) throw error;
      const message = {
        unsigned: `the contact's ${s.type} is not signed`,
        'bad-signature': `the ${s.type} is not signed by the contact's key: someone else is answering for them`,
        'no-fingerprint': `the ${s.type} has no usable DTLS fingerprint (${error.message}): the relay may be tampering`,
        mismatch: 'DTLS fingerprint does not match the signed one: the relay may be tampering',
        changed: 'DTLS fingerprint changed: the relay may be tampering',
      }[error.refusal];
      throw new SessionError(error.code, message);
    }
    this.#remoteDescribed = true;
    this.#peer.signal({ type: s.type, sdp: s.sdp });
    if (this.role === 'initiator') this.#events.emit('described', undefined);
  }

  async #onLocalSignal(data: SignalData): Promise<void> {
    if (this.#done) return;
    try {
      const out = toRtcData(data);
      if (out?.type === 'offer' || out?.type === 'answer') {
        const { fingerprint, sig } = await signSdpFingerprint(
          this.#o.identity,
          'session',
          this.sid,
          this.role,
          this.#o.peerId,
          out.sdp,
        );
        if (out.type === 'answer') this.#events.emit('described', undefined);
        await this.#o.sendSignal({ kind: 'rtc', sid: this.sid, signal: out, fp: fingerprint, sig });
      } else if (out?.type === 'candidate') {
        await this.#o.sendSignal({ kind: 'rtc', sid: this.sid, signal: out });
      }
      // renegotiate/transceiverRequest never occur on a data-only connection.
    } catch (error) {
      this.#fail(new SessionError('failed', `cannot signal the peer: ${(error as Error).message}`));
    }
  }

  async #onConnect(): Promise<void> {
    if (this.#done) return;
    const pc = this.#peer._pc;
    const localSdp = pc?.localDescription?.sdp;
    const remoteSdp = pc?.remoteDescription?.sdp;
    if (!localSdp || !remoteSdp) {
      this.#fail(new SessionError('failed', 'connected without descriptions'));
      return;
    }
    const myId = this.#o.identity.id;
    const initiator = this.role === 'initiator';
    const view = {
      sessionId: this.sid,
      initiatorId: initiator ? myId : this.#o.peerId,
      responderId: initiator ? this.#o.peerId : myId,
      role: this.role,
      localSdp,
      remoteSdp,
    };
    let transcript: Uint8Array<ArrayBuffer>;
    try {
      transcript = transcriptFromSdp(view);
    } catch (error) {
      this.#fail(new SessionError('transcript', `cannot build the session transcript: ${(error as Error).message}`));
      return;
    }
    // The transport exists from now so frames the peer sends right after its transcript are kept in order.
    const transport = new DirectTransport(this.#peer, this.#o.disconnectGraceMs ?? 2500, this.#log);
    this.#transport = transport;
    for (const d of this.#beforeConnect.splice(0)) transport.receive(d);
    transport.onClose((reason) =>
      this.#fail(new SessionError('failed', `direct connection lost before verification: ${reason}`)),
    );
    try {
      const sig = await signTranscript(this.#o.identity, transcript);
      transport.sendRaw(MSG_TRANSCRIPT, utf8(JSON.stringify({ sig })));
      const theirs = await transport.transcript;
      const parsed = JSON.parse(fromUtf8(theirs)) as { sig?: unknown };
      const ok = typeof parsed.sig === 'string' && (await verifyTranscript(this.#o.peerKey, transcript, parsed.sig));
      if (!ok)
        throw new SessionError(
          'transcript',
          "the contact's signed transcript does not match this connection (DTLS fingerprints or identities differ): refusing the session",
        );
    } catch (error) {
      this.#fail(
        error instanceof SessionError
          ? error
          : new SessionError('transcript', `transcript exchange failed: ${(error as Error).message}`),
      );
      return;
    }
    if (this.#done) return;
    this.#done = true;
    this.#result.resolve(transport);
  }

  #fail(error: SessionError): void {
    if (this.#done) return;
    this.#done = true;
    this.#log.info({ sid: this.sid, code: error.code, reason: error.message }, 'direct attempt ended');
    this.#result.reject(error);
    if (this.#transport) this.#transport.close(error.message);
    else this.#peer.destroy();
  }
}
