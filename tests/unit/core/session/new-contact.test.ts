// A new contact (issue 14.4): when the session leader adds first, its first direct offer reaches a
// contact who does not know it yet and is dropped. The follower's "start" (it has no attempt running)
// must make the leader start over at once, not sit on the dead attempt until its timeout (20 s) or on a
// retry backoff: that kept the chat header on "Connecting…" for 11–24 s in about half of the runs.
// Fake attempts and a fake clock: deterministic, no sleeps.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SESSION_POLICY } from '../../../../core/src/session/session.js';
import { eventually, link, settled, fakeSide, useOrderedIdentities, useSessions } from './session-fakes.js';

const keys = useOrderedIdentities();
const sessions = useSessions();

function side(role: 'leader' | 'follower') {
  const [me, contact] = role === 'leader' ? [keys.leader, keys.follower] : [keys.follower, keys.leader];
  return fakeSide({ me, contact, sessions, policy: { directBackoff: { initialMs: 500, maxMs: 30_000, jitter: 0 } } });
}

const leader = () => side('leader');

/** The follower's "start" as it goes out (signed): it has nothing, and nothing in progress. */
async function followerStart(): Promise<Record<string, unknown>> {
  const follower = side('follower');
  follower.session.ensure();
  await follower.relay.until(() => follower.relay.signals.length === 1);
  expect(follower.relay.bodies()[0]).toMatchObject({ kind: 'session', direct: false, relay: false, pending: false });
  return follower.relay.signals[0]!.data;
}

describe('a contact the leader added first', () => {
  it('the follower asking with no attempt of its own replaces the leader’s dead attempt at once', async () => {
    const { session, clock, attempts } = leader();
    session.ensure();
    await settled();
    expect(attempts).toHaveLength(1); // its offer goes to a contact who drops it
    await clock.advance(5_000); // the follower adds the leader a few seconds later
    session.handleSignal(await followerStart());
    await eventually(() => attempts.length === 2, 'a new attempt');
    expect(attempts[0]!.destroyed).not.toBeNull();
    expect(attempts[1]!.role).toBe('initiator');
    attempts[1]!.connect();
    await settled();
    expect(session.path).toBe('direct');
    // The dead attempt's failure does not count against the new one (no retry timer, no second attempt).
    await clock.advance(DEFAULT_SESSION_POLICY.directAttemptTimeoutMs);
    expect(attempts).toHaveLength(2);
    expect(session.path).toBe('direct');
  });

  it('also skips a pending retry backoff', async () => {
    const { session, clock, attempts } = leader();
    session.ensure();
    await settled();
    await clock.advance(DEFAULT_SESSION_POLICY.directAttemptTimeoutMs); // the first attempt times out; a retry waits 500 ms
    expect(attempts).toHaveLength(1);
    session.handleSignal(await followerStart());
    await eventually(() => attempts.length === 2, 'a new attempt');
  });

  it('leaves an attempt the follower is part of alone', async () => {
    const lead = leader();
    const follower = side('follower');
    link(lead, follower); // signals are sealed: the two exchange signal keys before the offer can be read
    lead.session.ensure();
    await settled();
    // The leader's offer reaches a follower that knows it: the follower answers with an attempt of its own.
    void lead.attempts[0]!.spec.sendSignal({
      kind: 'rtc',
      sid: lead.attempts[0]!.sid,
      signal: { type: 'offer', sdp: 'v=0\r\n' },
    });
    await eventually(() => follower.attempts.length === 1, 'the follower’s attempt');
    follower.session.ensure(); // something to send: it asks, saying an attempt is pending (the leader gets it)
    await follower.relay.until(() => follower.relay.bodies().some((b) => b.kind === 'session' && b.pending === true));
    await settled();
    expect(lead.attempts).toHaveLength(1);
    expect(lead.attempts[0]!.destroyed).toBeNull();
  });

  it('tells what it is doing meanwhile: trying direct, then connected (the header shows it)', async () => {
    const { session, attempts } = leader();
    const seen: string[] = [];
    session.on('activity', (a) => seen.push(a));
    expect(session.activity).toBe('idle');
    session.ensure();
    await settled();
    expect(session.activity).toBe('direct');
    attempts[0]!.connect();
    await settled();
    expect(session.activity).toBe('connected');
    expect(seen).toEqual(['direct', 'connected']);
  });

  it('a follower with nothing going waits for the leader to answer', async () => {
    const { session, relay } = side('follower');
    session.ensure();
    await relay.until(() => relay.signals.length === 1);
    expect(session.activity).toBe('waiting');
    expect(relay.kinds()).toEqual(['session']);
  });
});
