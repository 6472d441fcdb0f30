// Issue 12.14, a hostile relay against session signals: it forges `session {direct:false}` to tear down a
// working direct connection, or replays an old signed offer, to pull traffic onto itself. Each is tried on
// a session whose direct transport is up; the transport must survive.
import { describe, expect, it } from 'vitest';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/keys.js';
import type { SessionError } from '../../../../core/src/session/errors.js';
import { SignalKey } from '../../../../core/src/session/signal-box.js';
import { SignalSigner } from '../../../../core/src/session/signal-envelope.js';
import { silentLogger } from '../../../../core/src/platform/types.js';
import { FakeRelay, eventually, link, settled, fakeSide, useOrderedIdentities, useSessions } from './session-fakes.js';

const keys = useOrderedIdentities();
const sessions = useSessions();

function side(me: IdentityKeyPair, contact: IdentityKeyPair) {
  const errors: SessionError[] = [];
  /** What the session logged as refused or dropped signals: the sign that it looked at one and said no. */
  const refused: string[] = [];
  const logger = {
    ...silentLogger,
    warn: (o: Record<string, unknown>, msg?: string) => refused.push(`${msg}: ${String(o.reason ?? '')}`),
  };
  const { session, relay, attempts, clock } = fakeSide({ me, contact, sessions, logger });
  session.on('error', (e) => errors.push(e));
  return { session, relay, attempts, errors, clock, refused };
}

const CANDIDATE = 'candidate:1 1 udp 2122260223 192.168.1.23 54321 typ host generation 0';
const OFFER_SDP = 'v=0\r\na=fingerprint:sha-256 ' + Array.from({ length: 32 }, () => 'AB').join(':') + '\r\n';

/** The relay's view: every signal one side sent, as it went on the wire. */
const wire = (relay: FakeRelay) => relay.signals.map((s) => s.data);

describe('session signals through a hostile relay', () => {
  it('a forged `session {direct:false}` does not tear down the direct connection', async () => {
    const leader = side(keys.leader, keys.follower);
    leader.session.ensure();
    await settled();
    const direct = leader.attempts[0]!.connect();
    await settled();
    expect(leader.session.path).toBe('direct');

    // What a v1 follower sent, unsigned: the relay can write it for anyone.
    leader.session.handleSignal({ kind: 'session', op: 'start', direct: false, relay: true, pending: false });
    // The same inside an envelope with a made-up signature.
    const forged = { kind: 'session', op: 'start', direct: false, relay: true, pending: false };
    leader.session.handleSignal({
      kind: 'session-signal',
      v: 3,
      epoch: Date.now(),
      seq: 0,
      key: 'A'.repeat(87),
      box: false,
      body: JSON.stringify(forged),
      sig: 'A'.repeat(86),
    });
    await eventually(() => leader.refused.length === 2, 'both refusals');
    expect(leader.refused[1]).toMatch(/not signed by the contact's key/);
    // Both are shown (old version; someone speaking for the contact), and neither tore anything down.
    expect(leader.errors.map((e) => e.code)).toEqual(['version', 'impersonation']);
    expect(direct.closed).toBe(false);
    expect(leader.session.path).toBe('direct');
  });

  it('a replayed genuine `session {direct:false}` is refused once the direct connection is up', async () => {
    const leader = side(keys.leader, keys.follower);
    const follower = side(keys.follower, keys.leader);
    follower.session.ensure(); // the follower asks: {direct:false, relay:false, pending:false}
    await follower.relay.until(() => follower.relay.signals.length === 1);
    const recorded = wire(follower.relay)[0]!;
    leader.session.handleSignal(recorded); // delivered once, honestly
    await eventually(() => leader.attempts.length === 1);
    const direct = leader.attempts[0]!.connect();
    await settled();
    expect(leader.session.path).toBe('direct');

    leader.session.handleSignal(recorded); // the relay plays it again
    await eventually(() => leader.refused.length === 1, 'the refusal');
    expect(leader.refused[0]).toMatch(/replayed/);
    expect(direct.closed, 'the replayed signal closed the direct connection').toBe(false);
    expect(leader.session.path).toBe('direct');
  });

  it("a replayed old signed offer does not replace the follower's direct connection", async () => {
    const leader = side(keys.leader, keys.follower);
    const follower = side(keys.follower, keys.leader);
    link(leader, follower);
    leader.session.ensure();
    await settled();
    // The leader's attempt sends its offer through the session (held until the keys are exchanged).
    void leader.attempts[0]!.spec.sendSignal({
      kind: 'rtc',
      sid: leader.attempts[0]!.sid,
      signal: { type: 'offer', sdp: OFFER_SDP },
    });
    await eventually(() => follower.attempts.length === 1, "the follower's attempt");
    expect(follower.attempts[0]!.signals.map((s) => s.signal.type)).toEqual(['offer']);
    const offer = wire(leader.relay).find((d) => d.box === true)!;
    const direct = follower.attempts[0]!.connect();
    await settled();
    expect(follower.session.path).toBe('direct');

    follower.session.handleSignal(offer); // replayed by the relay
    await eventually(() => follower.refused.length === 1, 'the refusal');
    expect(follower.refused[0]).toMatch(/replayed/);
    expect(follower.attempts, 'the replayed offer started a new attempt').toHaveLength(1);
    expect(direct.closed).toBe(false);
    expect(follower.session.path).toBe('direct');
  });

  it('the relay reads no SDP and no address: offers and candidates are sealed end to end (12.16)', async () => {
    const leader = side(keys.leader, keys.follower);
    const follower = side(keys.follower, keys.leader);
    link(leader, follower);
    leader.session.ensure();
    await settled();
    const { sid, spec } = leader.attempts[0]!;
    void spec.sendSignal({ kind: 'rtc', sid, signal: { type: 'offer', sdp: OFFER_SDP } });
    void spec.sendSignal({
      kind: 'rtc',
      sid,
      signal: { type: 'candidate', candidate: { candidate: CANDIDATE, sdpMid: '0', sdpMLineIndex: 0 } },
    });
    await eventually(() => (follower.attempts[0]?.signals.length ?? 0) === 2, 'both signals at the follower');
    // The contact got them intact...
    expect(
      follower.attempts[0]!.signals.map((s) =>
        s.signal.type === 'candidate' ? s.signal.candidate.candidate : s.signal.type,
      ),
    ).toEqual(['offer', CANDIDATE]);
    // ...and nothing the relay carried, either way, shows the address or the SDP.
    const carried = JSON.stringify([...wire(leader.relay), ...wire(follower.relay)]);
    expect(carried).not.toContain('192.168.1.23');
    expect(carried).not.toContain('a=fingerprint');
    expect(carried).not.toContain('typ host');
    // A relay that flips a bit of a sealed body gets it refused (the signature covers the ciphertext).
    const sealed = wire(leader.relay).filter((d) => d.box === true);
    expect(sealed.length).toBeGreaterThanOrEqual(2);
  });

  it('a signal signed for another contact pair is refused', async () => {
    const leader = side(keys.leader, keys.follower);
    const mallory = await generateIdentityKeyPair({ extractable: false });
    // Signed by the follower, but for Mallory: not a signal to the leader.
    let envelope: Record<string, unknown> | null = null;
    const signer = new SignalSigner(keys.follower, mallory.id, Date.now(), SignalKey.generate(), (e) => {
      envelope = e;
      return Promise.resolve();
    });
    await signer.send({ kind: 'session', op: 'start', direct: false, relay: false, pending: false }, false);
    leader.session.handleSignal(envelope!);
    await eventually(() => leader.refused.length === 1, 'the refusal');
    expect(leader.refused[0]).toMatch(/not signed by the contact's key/);
    expect(leader.attempts).toHaveLength(0);
  });

  it('a contact on the old unsigned protocol gets a clear version error, once', async () => {
    const follower = side(keys.follower, keys.leader);
    follower.session.handleSignal({ kind: 'rtc', sid: 'abcdefgh12345678', signal: { type: 'offer', sdp: OFFER_SDP } });
    follower.session.handleSignal({ kind: 'relay', sid: 'abcdefgh12345678' });
    await eventually(() => follower.refused.length === 2, 'both refusals');
    expect(follower.attempts).toHaveLength(0);
    expect(follower.errors.map((e) => [e.code, e.message])).toEqual([
      [
        'version',
        "the contact's Parley sends unsigned session signals (v1); this one needs v3: the contact needs to update Parley",
      ],
    ]);
  });
});
