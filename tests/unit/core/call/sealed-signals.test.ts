// Issue 12.16 for calls: call signals travel in the signed, sealed envelope sessions use (one mechanism, a
// channel of its own). The relay reads no SDP, candidate or address; an altered body gets the call refused;
// an old (clear, v1) or other-version peer gets a clear version error. The WebRTC stack is a scripted
// simple-peer stand-in (real WebRTC: tests/integration/call/tampering.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import {
  CALL_SIGNAL_KIND,
  CallManager,
  type Call,
  type CallManagerOptions,
  type CallState,
  type StreamLike,
  type TrackLike,
} from '../../../../core/src/call/index.js';
import { CALL_SIGNALS } from '../../../../core/src/call/signal-link.js';
import { signRing } from '../../../../core/src/call/trust.js';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/keys.js';
import type { SimplePeerConstructor } from '../../../../core/src/platform/rtc.js';
import { SignalKey } from '../../../../core/src/session/signal-box.js';
import { SignalSigner, SignalVerifier } from '../../../../core/src/session/signal-envelope.js';
import { Emitter } from '../../../../core/src/util/emitter.js';
import type { PublicIdentityKey } from '../../../../signaling/protocol/index.js';
import { RelayHub, type RelayEndpoint } from './relay-double.js';

const HOST_IP = '192.168.7.23';
const HOST = `candidate:1 1 udp 2122260223 ${HOST_IP} 54321 typ host generation 0`;
const sdpWith = (fpByte: string) =>
  `v=0\r\no=- 1 2 IN IP4 ${HOST_IP}\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 ${Array.from({ length: 32 }, () => fpByte).join(':')}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 ${HOST_IP}\r\na=${HOST}\r\n`;

/** simple-peer as far as a call uses it: the caller offers, the callee answers, each trickles a host candidate. */
class ScriptedPeer {
  readonly #events = new Emitter<Record<string, unknown>>();
  destroyed = false;
  readonly _pc = null;
  constructor(opts: { initiator: boolean }) {
    if (opts.initiator)
      setTimeout(() => {
        this.#emit('signal', { type: 'offer', sdp: sdpWith('AA') });
        this.#emit('signal', { type: 'candidate', candidate: { candidate: HOST, sdpMid: '0', sdpMLineIndex: 0 } });
      }, 0);
  }
  on(event: string, listener: (value: unknown) => void): void {
    this.#events.on(event, listener);
  }
  addTrack(): void {}
  signal(data: { type: string }): void {
    if (data.type === 'offer') {
      this.#emit('signal', { type: 'answer', sdp: sdpWith('BB') });
      this.#emit('signal', { type: 'candidate', candidate: { candidate: HOST, sdpMid: '0', sdpMLineIndex: 0 } });
      setTimeout(() => this.#emit('connect', undefined), 0);
    } else if (data.type === 'answer') {
      setTimeout(() => this.#emit('connect', undefined), 0);
    }
  }
  destroy(): void {
    this.destroyed = true;
  }
  #emit(event: string, value: unknown): void {
    if (!this.destroyed) this.#events.emit(event, value);
  }
}

class FakeTrack implements TrackLike {
  enabled = true;
  readonly id = Math.random().toString(36).slice(2);
  constructor(readonly kind: 'audio' | 'video') {}
  stop(): void {}
}
class FakeStream implements StreamLike {
  readonly id = Math.random().toString(36).slice(2);
  readonly tracks = [new FakeTrack('audio')];
  getTracks(): FakeTrack[] {
    return [...this.tracks];
  }
  getAudioTracks(): FakeTrack[] {
    return [...this.tracks];
  }
  getVideoTracks(): FakeTrack[] {
    return [];
  }
}

interface Party {
  identity: IdentityKeyPair;
  relay: RelayEndpoint;
  calls: CallManager<FakeStream>;
}

const managers: CallManager<FakeStream>[] = [];
afterEach(() => {
  for (const m of managers.splice(0)) m.close();
});

async function pair(options: Partial<CallManagerOptions> = {}): Promise<{ hub: RelayHub; a: Party; b: Party }> {
  const hub = new RelayHub();
  const [ia, ib] = await Promise.all([
    generateIdentityKeyPair({ extractable: false }),
    generateIdentityKeyPair({ extractable: false }),
  ]);
  const contacts = new Map<string, { key: PublicIdentityKey; name: string }>([
    [ia.id, { key: ia.publicKey, name: 'Alice' }],
    [ib.id, { key: ib.publicKey, name: 'Bob' }],
  ]);
  const party = (identity: IdentityKeyPair): Party => {
    const relay = hub.endpoint(identity.id);
    const calls = new CallManager<FakeStream>({
      relay,
      identity,
      contactKey: (id) => (id === identity.id ? undefined : contacts.get(id)?.key),
      contactName: (id) => contacts.get(id)?.name,
      SimplePeer: ScriptedPeer as unknown as SimplePeerConstructor,
      ...options,
    });
    managers.push(calls);
    return { identity, relay, calls };
  };
  return { hub, a: party(ia), b: party(ib) };
}

function incoming(p: Party): Promise<Call<FakeStream>> {
  return new Promise((resolve) => {
    const off = p.calls.on('incoming', (c) => {
      off();
      resolve(c);
    });
  });
}

function reaches(call: Call<FakeStream>, wanted: CallState): Promise<void> {
  if (call.state === wanted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const off = call.on('state', ({ state, end }) => {
      if (state === wanted) {
        off();
        resolve();
      } else if (state === 'ended' || state === 'failed') {
        off();
        reject(new Error(`call ${state} (${end?.code}: ${end?.message}) before ${wanted}`));
      }
    });
  });
}

function finished(call: Call<FakeStream>): Promise<void> {
  if (call.state === 'ended' || call.state === 'failed') return Promise.resolve();
  return new Promise((resolve) => {
    const off = call.on('state', ({ state }) => {
      if (state === 'ended' || state === 'failed') {
        off();
        resolve();
      }
    });
  });
}

async function quiet(hub: RelayHub, parties: Party[]): Promise<void> {
  for (let round = 0; round < 1000; round++) {
    await hub.delivered();
    await Promise.all(parties.map((p) => p.calls.idle()));
    await new Promise((resolve) => setImmediate(resolve));
    if (hub.inFlight === 0) return;
  }
  throw new Error('the relay never went quiet');
}

/** Flips one character in the middle of a base64url string (still well-formed). */
function flip(text: string): string {
  const i = Math.floor(text.length / 2);
  return text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1);
}

describe('call signals v2: sealed end to end', () => {
  it('the relay reads no SDP, candidate, address or call op; the call still connects', async () => {
    const { hub, a, b } = await pair();
    const ring = incoming(b);
    const out = a.calls.start(b.identity.id, new FakeStream());
    const inc = await ring;
    await inc.accept(new FakeStream());
    await Promise.all([reaches(out, 'active'), reaches(inc, 'active')]);
    out.hangup();
    await finished(inc);
    expect(inc.end).toMatchObject({ code: 'remote-hangup', remote: true });

    const wire = hub.log.map((m) => m.data);
    expect(wire.length).toBeGreaterThanOrEqual(8); // ring, ringing, accept, offer, answer, candidates, states, hangup
    for (const data of wire) expect(data).toMatchObject({ kind: 'call-signal', v: 2 });
    // What the relay can read: every field but the base64url ones (a sealed body, signatures, keys), which
    // are checked to be nothing else. Searching those too would find 'sdp' in random ciphertext now and then.
    const base64url = /^[A-Za-z0-9_-]*$/;
    const readable = wire.map(({ body, sig, key, to, ...rest }) => {
      for (const opaque of [sig, key, to]) if (opaque !== undefined) expect(String(opaque)).toMatch(base64url);
      if (rest.box === true) expect(String(body)).toMatch(base64url);
      return { ...rest, body: rest.box === true ? '(sealed)' : body };
    });
    const text = JSON.stringify(readable);
    for (const secret of [HOST_IP, 'a=fingerprint', 'typ host', 'sdp', 'candidate', '"op"', 'offer', 'answer'])
      expect(text).not.toContain(secret);
    // Only the ring (it must reach a contact whose current key we may not know) and the callee's key go
    // signed in clear.
    const clear = wire.filter((d) => d.box !== true).map((d) => JSON.parse(String(d.body)) as Record<string, unknown>);
    expect(clear).toEqual([expect.objectContaining({ kind: CALL_SIGNAL_KIND, op: 'ring' }), { kind: 'key' }]);
  });

  it('a sealed body the relay altered gets the call refused on both sides ("altered on the way"), never active', async () => {
    const { hub, a, b } = await pair();
    // Like a hostile relay that guesses which envelope carries the offer (the largest), and alters it.
    let altered = 0;
    hub.tamper = (_from, _to, data) => {
      if (data.box !== true || String(data.body).length < 400) return data;
      altered++;
      return { ...data, body: flip(String(data.body)) };
    };
    const ring = incoming(b);
    const out = a.calls.start(b.identity.id, new FakeStream());
    const inc = await ring;
    const states: CallState[] = [];
    out.on('state', ({ state }) => states.push(state));
    inc.on('state', ({ state }) => states.push(state));
    await inc.accept(new FakeStream());
    await Promise.all([finished(out), finished(inc)]);
    expect(altered).toBeGreaterThanOrEqual(1);
    expect(inc.end).toMatchObject({ code: 'tampered', remote: false });
    expect(inc.end?.message).toMatch(/a call signal from Alice was altered on the way .*the call was refused/);
    expect(out.end).toMatchObject({ code: 'tampered', remote: true });
    expect(states).not.toContain('active');
  });

  it('once a call is active, an altered or forged signal does not end it', async () => {
    const { hub, a, b } = await pair();
    const ring = incoming(b);
    const out = a.calls.start(b.identity.id, new FakeStream());
    const inc = await ring;
    await inc.accept(new FakeStream());
    await Promise.all([reaches(out, 'active'), reaches(inc, 'active')]);
    const last = hub.log.filter((m) => m.from === a.identity.id).at(-1)!.data;
    hub.inject(a.identity.id, b.identity.id, { ...last, seq: Number(last.seq) + 1, body: flip(String(last.body)) });
    hub.inject(a.identity.id, b.identity.id, { kind: 'call-signal', v: 2, nonsense: true });
    await quiet(hub, [a, b]);
    expect(inc.state).toBe('active');
    out.hangup();
  });

  it('a clear (v1) ring from an older Parley: no ring, an "incompatible" event, and a v1 hangup "unsupported" back', async () => {
    const { hub, a, b } = await pair();
    let rang = false;
    b.calls.on('incoming', () => (rang = true));
    const incompatible = new Promise<{ peerId: string; message: string }>((resolve) =>
      b.calls.on('incompatible', resolve),
    );
    const callId = 'v1'.repeat(11);
    const media = { audio: true, video: false };
    const at = Date.now();
    const sig = await signRing(a.identity, { callId, callerId: a.identity.id, calleeId: b.identity.id, media, at });
    hub.inject(a.identity.id, b.identity.id, { kind: CALL_SIGNAL_KIND, op: 'ring', callId, media, at, sig });
    expect(await incompatible).toMatchObject({
      peerId: a.identity.id,
      message: expect.stringMatching(/Alice called with an older Parley .*Alice needs to update Parley/),
    });
    await quiet(hub, [a, b]);
    expect(rang).toBe(false);
    // The old peer understands this: its call fails at once with "calls are not available on one of the devices".
    expect(hub.log.map((m) => m.data)).toContainEqual({
      kind: CALL_SIGNAL_KIND,
      callId,
      op: 'hangup',
      reason: 'unsupported',
    });
  });

  it('an envelope of another version fails a call being set up with "unsupported" and says who must update', async () => {
    const { hub, a, b } = await pair();
    hub.tamper = (from, _to, data) => (from === b.identity.id && data.box === true ? { ...data, v: 3 } : data);
    const ring = incoming(b);
    const out = a.calls.start(b.identity.id, new FakeStream());
    await ring;
    await finished(out);
    expect(out.end).toMatchObject({ code: 'unsupported', remote: false });
    expect(out.end?.message).toContain("Bob cannot be called: the contact's Parley speaks call signals v3");
    expect(out.end?.message).toContain('update Parley');
  });
});

describe('one envelope for sessions and calls, a channel each', () => {
  it('an envelope signed for the call channel is refused on the session channel and the reverse', async () => {
    const [alice, bob] = await Promise.all([
      generateIdentityKeyPair({ extractable: false }),
      generateIdentityKeyPair({ extractable: false }),
    ]);
    const sent: Array<Record<string, unknown>> = [];
    const collect = (e: Record<string, unknown>) => {
      sent.push(e);
      return Promise.resolve();
    };
    const bobKey = SignalKey.generate();
    const callSigner = new SignalSigner(alice, bob.id, 1, SignalKey.generate(), collect, CALL_SIGNALS);
    const sessionSigner = new SignalSigner(alice, bob.id, 1, SignalKey.generate(), collect);
    await callSigner.send({ kind: 'call', op: 'ringing', callId: 'x'.repeat(22) }, false);
    await sessionSigner.send({ kind: 'session', op: 'start', direct: false, relay: false, pending: false }, false);
    const [callEnvelope, sessionEnvelope] = sent as [Record<string, unknown>, Record<string, unknown>];
    expect(callEnvelope.kind).toBe('call-signal');
    expect(sessionEnvelope.kind).toBe('session-signal');

    const callVerifier = () => new SignalVerifier(alice.id, alice.publicKey, bob.id, bobKey, CALL_SIGNALS);
    const sessionVerifier = () => new SignalVerifier(alice.id, alice.publicKey, bob.id, bobKey);
    expect(await callVerifier().open(callEnvelope)).toMatchObject({ ok: true, data: { op: 'ringing' } });
    expect(await sessionVerifier().open(sessionEnvelope)).toMatchObject({ ok: true, data: { kind: 'session' } });
    // Moved to the other channel as is, or relabelled: never valid (the signature covers the channel's label).
    expect(await sessionVerifier().open(callEnvelope)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(await callVerifier().open(sessionEnvelope)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(await sessionVerifier().open({ ...callEnvelope, kind: 'session-signal', v: 3 })).toMatchObject({
      ok: false,
      reason: 'signature',
    });
    expect(await callVerifier().open({ ...sessionEnvelope, kind: 'call-signal', v: 2 })).toMatchObject({
      ok: false,
      reason: 'signature',
    });
    // A v1 clear call signal on the call channel: a version error naming who must update.
    expect(await callVerifier().open({ kind: 'call', op: 'ring' })).toMatchObject({
      ok: false,
      reason: 'version',
      message: expect.stringContaining('the contact needs to update Parley'),
    });
  });
});
