// CallManager state machine and signal validation over an in-memory relay (real WebRTC: tests/integration/call).
import { afterEach, describe, expect, it } from 'vitest';
import {
  CALL_SIGNAL_KIND,
  CallError,
  CallManager,
  type Call,
  type CallManagerOptions,
  type CallMediaState,
  type CallRelay,
  type CallState,
  type StreamLike,
  type TrackLike,
} from '../../../../core/src/call/index.js';
import { CALL_SIGNALS } from '../../../../core/src/call/signal-link.js';
import { signRing } from '../../../../core/src/call/trust.js';
import { SignalKey } from '../../../../core/src/session/signal-box.js';
import { SignalSigner } from '../../../../core/src/session/signal-envelope.js';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/keys.js';
import type { RelayClient } from '../../../../core/src/relay/index.js';
import type { PublicIdentityKey } from '../../../../signaling/protocol/index.js';
import { RelayHub, type RelayEndpoint } from './relay-double.js';

// Compile-time: the real relay client is what the Messenger will hand to CallManager.
const relayClientFits = (r: RelayClient): CallRelay => r;
void relayClientFits;

class FakeTrack implements TrackLike {
  enabled = true;
  stopped = false;
  readonly id = Math.random().toString(36).slice(2);
  constructor(readonly kind: 'audio' | 'video') {}
  stop(): void {
    this.stopped = true;
  }
}

class FakeStream implements StreamLike {
  readonly id = Math.random().toString(36).slice(2);
  constructor(readonly tracks: FakeTrack[]) {}
  getTracks(): FakeTrack[] {
    return [...this.tracks];
  }
  getAudioTracks(): FakeTrack[] {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks(): FakeTrack[] {
    return this.tracks.filter((t) => t.kind === 'video');
  }
}

const av = () => new FakeStream([new FakeTrack('audio'), new FakeTrack('video')]);
const audioOnly = () => new FakeStream([new FakeTrack('audio')]);

interface Party {
  name: string;
  identity: IdentityKeyPair;
  relay: RelayEndpoint;
  calls: CallManager<FakeStream>;
  contacts: Map<string, { key: PublicIdentityKey; name: string }>;
}

const managers: CallManager<FakeStream>[] = [];
afterEach(() => {
  for (const m of managers.splice(0)) m.close();
});

async function world(
  names: string[],
  options: Partial<CallManagerOptions> = {},
): Promise<{ hub: RelayHub; parties: Party[] }> {
  const hub = new RelayHub();
  const identities = await Promise.all(names.map(() => generateIdentityKeyPair({ extractable: false })));
  const parties = names.map((name, i): Party => {
    const identity = identities[i]!;
    const relay = hub.endpoint(identity.id);
    const contacts = new Map<string, { key: PublicIdentityKey; name: string }>();
    const calls = new CallManager<FakeStream>({
      relay,
      identity,
      contactKey: (id) => contacts.get(id)?.key,
      contactName: (id) => contacts.get(id)?.name,
      ...options,
    });
    managers.push(calls);
    return { name, identity, relay, calls, contacts };
  });
  return { hub, parties };
}

function befriend(a: Party, b: Party): void {
  a.contacts.set(b.identity.id, { key: b.identity.publicKey, name: b.name });
  b.contacts.set(a.identity.id, { key: a.identity.publicKey, name: a.name });
}

function stateIs(call: Call<FakeStream>, state: CallState): Promise<void> {
  if (call.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const off = call.on('state', (e) => {
      if (e.state === state) {
        off();
        resolve();
      } else if (e.state === 'ended' || e.state === 'failed') {
        off();
        reject(new Error(`call ${e.state} (${e.end?.code}: ${e.end?.message}) while waiting for ${state}`));
      }
    });
  });
}

function finished(call: Call<FakeStream>): Promise<void> {
  if (call.state === 'ended' || call.state === 'failed') return Promise.resolve();
  return new Promise((resolve) => {
    const off = call.on('state', (e) => {
      if (e.state === 'ended' || e.state === 'failed') {
        off();
        resolve();
      }
    });
  });
}

function incoming(p: Party): Promise<Call<FakeStream>> {
  return new Promise((resolve) => {
    const off = p.calls.on('incoming', (c) => {
      off();
      resolve(c);
    });
  });
}

function remoteState(call: Call<FakeStream>): Promise<CallMediaState> {
  return new Promise((resolve) => {
    const off = call.on('remote-state', (s) => {
      off();
      resolve(s);
    });
  });
}

/**
 * Signs call signal bodies as `from` would (in the call signal envelope, signal-link.ts) and delivers them at
 * `to` through the relay double: what the contact itself can send, valid or not. Its epoch is later than that
 * of `from`'s own manager, so after the first one `to` refuses what `from`'s manager sends (older epoch).
 */
function signedBy(hub: RelayHub, from: Party, to: Party): (body: Record<string, unknown>) => Promise<void> {
  const signer = new SignalSigner(
    from.identity,
    to.identity.id,
    Date.now() + 60_000,
    SignalKey.generate(),
    (envelope) => {
      hub.inject(from.identity.id, to.identity.id, envelope);
      return Promise.resolve();
    },
    CALL_SIGNALS,
  );
  return (body) => signer.send(body, false);
}

/**
 * Until the world is quiet: no signal in flight and every manager done with what it received (a ring's
 * signature check is asynchronous). Asserting "nothing happened" after this means nothing will.
 */
async function quiet(hub: RelayHub, parties: Party[]): Promise<void> {
  for (let round = 0; round < 1000; round++) {
    await hub.delivered();
    await Promise.all(parties.map((p) => p.calls.idle()));
    await new Promise((resolve) => setImmediate(resolve)); // what handling started (a signed reply) gets sent
    if (hub.inFlight === 0) return;
  }
  throw new Error('the relay never went quiet');
}

describe('CallManager: ringing, declining, hanging up', () => {
  it('rings the callee (calling → ringing), who declines: both ended with matching reasons', async () => {
    const { parties } = await world(['Alice', 'Bob']);
    const [a, b] = parties as [Party, Party];
    befriend(a, b);
    const ring = incoming(b);
    const seen: CallState[] = [];
    const out = a.calls.start(b.identity.id, av());
    out.on('state', (e) => seen.push(e.state));
    expect(out.state).toBe('calling');
    expect(out.direction).toBe('outgoing');
    expect(out.offered).toEqual({ audio: true, video: true });
    const inc = await ring;
    expect(inc.id).toBe(out.id);
    expect(inc.peerId).toBe(a.identity.id);
    expect(inc.direction).toBe('incoming');
    expect(inc.state).toBe('ringing');
    expect(inc.offered).toEqual({ audio: true, video: true });
    await stateIs(out, 'ringing');
    inc.decline();
    expect(inc.state).toBe('ended');
    expect(inc.end).toMatchObject({ code: 'declined', remote: false });
    await finished(out);
    expect(out.state).toBe('ended');
    expect(out.end).toMatchObject({ code: 'remote-declined', message: 'Bob declined the call' });
    expect(seen).toEqual(['ringing', 'ended']);
    expect(a.calls.current).toBeNull();
    expect(b.calls.current).toBeNull();
  });

  it('caller cancels while it rings: the callee sees a missed call; the local tracks are stopped', async () => {
    const { parties } = await world(['Alice', 'Bob']);
    const [a, b] = parties as [Party, Party];
    befriend(a, b);
    const ring = incoming(b);
    const stream = av();
    const out = a.calls.start(b.identity.id, stream);
    const inc = await ring;
    await stateIs(out, 'ringing');
    out.hangup();
    expect(out.end).toMatchObject({ code: 'hangup' });
    expect(stream.tracks.every((t) => t.stopped)).toBe(true);
    await finished(inc);
    expect(inc.state).toBe('ended');
    expect(inc.end).toMatchObject({ code: 'missed', remote: true, message: 'missed call from Alice' });
  });

  it('callee hangs up a ringing call = declines', async () => {
    const { parties } = await world(['Alice', 'Bob']);
    const [a, b] = parties as [Party, Party];
    befriend(a, b);
    const ring = incoming(b);
    const out = a.calls.start(b.identity.id, audioOnly());
    const inc = await ring;
    inc.hangup();
    await finished(out);
    expect(out.end?.code).toBe('remote-declined');
    expect(out.offered).toEqual({ audio: true, video: false });
  });

  it('an unanswered call rings out: no-answer for the caller, missed for the callee', async () => {
    const { parties } = await world(['Alice', 'Bob'], { timeouts: { ringMs: 150 } });
    const [a, b] = parties as [Party, Party];
    befriend(a, b);
    const ring = incoming(b);
    const out = a.calls.start(b.identity.id, av());
    const inc = await ring;
    await Promise.all([finished(out), finished(inc)]);
    expect(out.end).toMatchObject({ code: 'no-answer', message: 'Bob did not answer' });
    expect(inc.end).toMatchObject({ code: 'missed', remote: true });
  });

  it('an incoming call whose caller vanished stops ringing by itself (missed)', async () => {
    const { hub, parties } = await world(['Alice', 'Bob'], { timeouts: { ringMs: 100 } });
    const [a, b] = parties as [Party, Party];
    befriend(a, b);
    let fromAlice = 0; // the caller's signals after its ring (its hangup among them) never arrive
    hub.tamper = (from, _to, data) => (from === a.identity.id && ++fromAlice > 1 ? null : data);
    const ring = incoming(b);
    a.calls.start(b.identity.id, av());
    const inc = await ring;
    await finished(inc);
    expect(inc.end).toMatchObject({ code: 'missed', remote: false });
  });

  it('busy: a second caller gets busy at once, the callee gets a missed event, the first call is untouched', async () => {
    const { parties } = await world(['Alice', 'Bob', 'Carol']);
    const [a, b, c] = parties as [Party, Party, Party];
    befriend(a, b);
    befriend(c, b);
    const ring = incoming(b);
    const first = a.calls.start(b.identity.id, av());
    const inc = await ring;
    const missed = new Promise<{ peerId: string; offered: { audio: boolean; video: boolean } }>((resolve) =>
      b.calls.on('missed', resolve),
    );
    const second = c.calls.start(b.identity.id, audioOnly());
    await finished(second);
    expect(second.state).toBe('ended');
    expect(second.end).toMatchObject({ code: 'busy', message: 'Bob is in another call' });
    expect(await missed).toMatchObject({ peerId: c.identity.id, offered: { audio: true, video: false } });
    expect(b.calls.current).toBe(inc);
    expect(inc.state).toBe('ringing');
    expect(first.state).toBe('ringing');
  });

  it('glare: both call each other at once; exactly one call survives, ringing at the side with the larger id', async () => {
    const { hub, parties } = await world(['Alice', 'Bob']);
    const [a, b] = parties as [Party, Party];
    befriend(a, b);
    const [small, large] = a.identity.id < b.identity.id ? [a, b] : [b, a];
    const ringAtLarge = incoming(large);
    const fromSmall = small.calls.start(large.identity.id, av());
    const fromLarge = large.calls.start(small.identity.id, av());
    const inc = await ringAtLarge;
    await finished(fromLarge);
    expect(fromLarge.end?.code).toBe('superseded');
    expect(inc.id).toBe(fromSmall.id);
    await stateIs(fromSmall, 'ringing');
    await quiet(hub, parties);
    expect(small.calls.current).toBe(fromSmall);
    expect(fromSmall.state).toBe('ringing');
    expect(large.calls.current).toBe(inc);
  });
});

describe('CallManager: failing fast', () => {
  it('a contact who is offline fails the call at once with "<name> is offline"', async () => {
    const { parties } = await world(['Alice', 'Bob']);
    const [a, b] = parties as [Party, Party];
    befriend(a, b);
    b.relay.state = 'offline';
    const out = a.calls.start(b.identity.id, av());
    await finished(out);
    expect(out.state).toBe('failed');
    expect(out.end).toMatchObject({ code: 'offline', message: 'Bob is offline' });
    expect(a.calls.current).toBeNull();
  });

  it('without a relay connection the call fails at once and nothing is sent', async () => {
    const { parties } = await world(['Alice', 'Bob']);
    const [a, b] = parties as [Party, Party];
    befriend(a, b);
    a.relay.state = 'offline';
    const out = a.calls.start(b.identity.id, av());
    await finished(out);
    expect(out.state).toBe('failed');
    expect(out.end?.code).toBe('relay-offline');
    expect(a.relay.sent).toBe(0);
  });

  it('accepting where WebRTC is unavailable fails both sides with "unsupported" instead of connecting forever', async () => {
    const { parties } = await world(['Alice', 'Bob']);
    const [a, b] = parties as [Party, Party];
    befriend(a, b);
    const ring = incoming(b);
    const out = a.calls.start(b.identity.id, av());
    const inc = await ring;
    const states: CallState[] = [];
    inc.on('state', (e) => states.push(e.state));
    await inc.accept(av()); // no wrtc in this Node process: simple-peer cannot construct a peer connection
    await finished(inc);
    expect(states).toEqual(['connecting', 'failed']);
    expect(inc.end?.code).toBe('unsupported');
    await finished(out);
    expect(out.state).toBe('failed');
    expect(out.end?.code).toBe('unsupported'); // its own peer cannot start either, or Bob's report arrives first
  });

  it('refuses misuse with CallError: busy, unknown contact, calling yourself, no tracks, accepting an outgoing call', async () => {
    const { parties } = await world(['Alice', 'Bob', 'Mallory']);
    const [a, b, m] = parties as [Party, Party, Party];
    befriend(a, b);
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof CallError ? e.code : 'not-a-CallError';
      }
      return 'no-throw';
    };
    expect(code(() => a.calls.start(m.identity.id, av()))).toBe('unknown-contact');
    expect(code(() => a.calls.start(a.identity.id, av()))).toBe('unknown-contact');
    expect(code(() => a.calls.start(b.identity.id, new FakeStream([])))).toBe('invalid-media');
    const out = a.calls.start(b.identity.id, av());
    expect(code(() => a.calls.start(b.identity.id, av()))).toBe('busy');
    await expect(out.accept(av())).rejects.toMatchObject({ code: 'invalid-state' });
    expect(code(() => out.addVideo(new FakeTrack('audio'), av()))).toBe('invalid-media');
    expect(code(() => out.replaceTrack(new FakeTrack('audio'), new FakeTrack('audio')))).toBe('invalid-media');
    await expect(out.stats()).rejects.toMatchObject({ code: 'invalid-state' });
    out.hangup();
    expect(
      () =>
        new CallManager({
          relay: a.relay,
          identity: a.identity,
          contactKey: () => undefined,
          timeouts: { connectMs: 0 },
        }),
    ).toThrow(RangeError);
  });
});

describe('CallManager: signal validation', () => {
  it('ignores rings from strangers, malformed rings, forged, stale and replayed rings, without throwing', async () => {
    const { hub, parties } = await world(['Alice', 'Bob', 'Mallory']);
    const [a, b, m] = parties as [Party, Party, Party];
    befriend(a, b);
    let rings = 0;
    b.calls.on('incoming', () => rings++);
    const ring = async (signer: Party, callId: string, at = Date.now(), media = { audio: true, video: false }) => ({
      kind: CALL_SIGNAL_KIND,
      op: 'ring',
      callId,
      media,
      at,
      sig: await signRing(signer.identity, {
        callId,
        callerId: signer.identity.id,
        calleeId: b.identity.id,
        media,
        at,
      }),
    });
    const good = await ring(a, 'c'.repeat(22));
    const fromAlice = signedBy(hub, a, b);
    await signedBy(hub, m, b)(await ring(m, 'm'.repeat(22))); // not a contact
    await fromAlice({ ...good, media: { audio: 'yes' } });
    await fromAlice({ ...good, callId: 'short' });
    await fromAlice({ ...good, callId: 'x'.repeat(21) + '/' });
    await fromAlice({ ...good, op: 'dance' });
    await fromAlice({ kind: CALL_SIGNAL_KIND });
    await fromAlice({ ...good, sig: undefined });
    await fromAlice({ ...(await ring(m, 'f'.repeat(22))), callId: 'f'.repeat(22) }); // "from Alice", signed by Mallory
    await fromAlice({ ...good, media: { audio: true, video: true } }); // media changed after signing
    await fromAlice(await ring(a, 's'.repeat(22), Date.now() - 11 * 60_000)); // too old
    await fromAlice({ ...good, kind: 'rtc' }); // another engine's kind
    await quiet(hub, parties);
    expect(rings).toBe(0);
    expect(b.calls.current).toBeNull();
    await fromAlice(good); // the same ring, untouched, from the contact does ring
    await quiet(hub, parties);
    expect(rings).toBe(1);
    const envelope = hub.log.at(-1)!.data;
    await fromAlice(good); // a duplicate of a ringing call is not a second call
    await quiet(hub, parties);
    expect(rings).toBe(1);
    b.calls.current!.decline();
    await fromAlice(good); // signed again after it ended: ignored
    hub.inject(a.identity.id, b.identity.id, envelope); // the envelope replayed: ignored
    await quiet(hub, parties);
    expect(rings).toBe(1);
    expect(b.calls.current).toBeNull();
  });

  it("signals for a call are accepted only from that call's contact", async () => {
    const { hub, parties } = await world(['Alice', 'Bob', 'Carol']);
    const [a, b, c] = parties as [Party, Party, Party];
    befriend(a, b);
    befriend(c, b);
    const ring = incoming(b);
    const out = a.calls.start(b.identity.id, av());
    const inc = await ring;
    // Carol (a contact, but not in this call) tries to hang up and to fake Alice's media state.
    const fromCarol = signedBy(hub, c, b);
    await fromCarol({ kind: CALL_SIGNAL_KIND, op: 'hangup', callId: inc.id, reason: 'hangup' });
    await fromCarol({ kind: CALL_SIGNAL_KIND, op: 'state', callId: inc.id, muted: true, cameraOff: true, rev: 99 });
    // Carol's accept of Alice's call to Bob must not connect Alice's call.
    await signedBy(hub, c, a)({ kind: CALL_SIGNAL_KIND, op: 'accept', callId: out.id });
    await quiet(hub, parties);
    expect(inc.state).toBe('ringing');
    expect(inc.remote).toEqual({ muted: false, cameraOff: false, video: true });
    expect(out.state).toBe('ringing');
    out.hangup();
  });

  it('mute and camera-off reach the other side; a stale or replayed state (rev not increasing) is dropped; malformed state refused', async () => {
    const { hub, parties } = await world(['Alice', 'Bob']);
    const [a, b] = parties as [Party, Party];
    befriend(a, b);
    const ring = incoming(b);
    const stream = av();
    const out = a.calls.start(b.identity.id, stream);
    const inc = await ring;
    const captured: Array<Record<string, unknown>> = [];
    hub.tamper = (f, _t, data) => {
      if (f === a.identity.id) captured.push(data);
      return data;
    };
    let got = remoteState(inc);
    out.setMuted(true);
    expect(stream.getAudioTracks()[0]!.enabled).toBe(false);
    expect(stream.getVideoTracks()[0]!.enabled).toBe(true);
    expect(await got).toEqual({ muted: true, cameraOff: false, video: true });
    got = remoteState(inc);
    out.setCameraOff(true);
    expect(stream.getVideoTracks()[0]!.enabled).toBe(false);
    expect(await got).toEqual({ muted: true, cameraOff: true, video: true });
    // The relay replays Alice's signals (both states among them): all ignored.
    const events: CallMediaState[] = [];
    inc.on('remote-state', (s) => events.push(s));
    expect(captured.length).toBeGreaterThanOrEqual(2);
    for (const envelope of captured) hub.inject(a.identity.id, b.identity.id, envelope);
    await quiet(hub, parties);
    expect(events).toEqual([]);
    expect(inc.remote).toEqual({ muted: true, cameraOff: true, video: true });
    got = remoteState(inc);
    out.setMuted(false);
    expect(await got).toEqual({ muted: false, cameraOff: true, video: true });
    expect(stream.getAudioTracks()[0]!.enabled).toBe(true);
    // Signed by Alice but stale (rev not increasing) or malformed: ignored.
    const fromAlice = signedBy(hub, a, b);
    await fromAlice({ kind: CALL_SIGNAL_KIND, op: 'state', callId: inc.id, muted: true, cameraOff: false, rev: 1 });
    await fromAlice({ kind: CALL_SIGNAL_KIND, op: 'state', callId: inc.id, muted: 'no', cameraOff: false, rev: 100 });
    await quiet(hub, parties);
    expect(events).toEqual([{ muted: false, cameraOff: true, video: true }]);
    out.hangup();
  });

  it("a hangup reason outside the known codes is refused; a known failure code is reported as the peer's", async () => {
    const { hub, parties } = await world(['Alice', 'Bob']);
    const [a, b] = parties as [Party, Party];
    befriend(a, b);
    const ring = incoming(b);
    const out = a.calls.start(b.identity.id, av());
    await ring;
    await stateIs(out, 'ringing');
    const fromBob = signedBy(hub, b, a);
    await fromBob({ kind: CALL_SIGNAL_KIND, op: 'hangup', callId: out.id, reason: '<script>' });
    await quiet(hub, parties);
    expect(out.state).toBe('ringing');
    await fromBob({ kind: CALL_SIGNAL_KIND, op: 'hangup', callId: out.id, reason: 'no-path' });
    await finished(out);
    expect(out.state).toBe('failed');
    expect(out.end).toMatchObject({ code: 'no-path', remote: true });
    expect(out.end?.message).toContain('TURN server is needed');
  });
});
