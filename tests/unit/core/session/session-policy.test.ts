// Session policy with fake transports and a fake clock (deterministic, no sleeps): the direct head start,
// the stall shortcut, falling back to the relay when direct drops, and moving back to direct.
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../../../core/src/session/errors.js';
import { DEFAULT_SESSION_POLICY, type SessionPolicy } from '../../../../core/src/session/session.js';
import { silentLogger } from '../../../../core/src/platform/types.js';
import type { TcpListener, TcpPlatform } from '../../../../core/src/session/tcp-path.js';
import type { RecordSocket } from '../../../../core/src/session/transport.js';
import { FramePipe } from '../../../../core/src/util/frame-pipe.js';
import { eventually, link, settled, fakeSide, useOrderedIdentities, useSessions } from './session-fakes.js';

const keys = useOrderedIdentities();
const sessions = useSessions();

/** No jitter, so backoff delays are exact. */
const policy: Partial<SessionPolicy> = {
  directBackoff: { initialMs: 500, maxMs: 30_000, jitter: 0 },
  relayBackoff: { initialMs: 250, maxMs: 10_000, jitter: 0 },
};
const { directHeadStartMs: HEAD_START, directStallMs: STALL, tcpHeadStartMs: TCP_HEAD_START } = DEFAULT_SESSION_POLICY;

/** One end of an in-memory TCP connection (ordered, reliable, delivered a tick later). */
class MemorySocket extends FramePipe implements RecordSocket {
  peer!: MemorySocket;
  constructor() {
    super(0);
  }
  get bufferedAmount(): number {
    return 0;
  }
  send(payload: Uint8Array): void {
    const copy = payload.slice();
    setImmediate(() => this.peer.emitFrame(copy));
  }
  sendFramed(frame: Uint8Array): void {
    this.send(frame.subarray(4));
  }
  close(): void {
    if (this.markClosed('closed locally')) setImmediate(() => this.peer.markClosed('closed by the peer'));
  }
  static pair(): [MemorySocket, MemorySocket] {
    const a = new MemorySocket();
    const b = new MemorySocket();
    a.peer = b;
    b.peer = a;
    return [a, b];
  }
}

function setup(role: 'leader' | 'follower' = 'leader', extra: Partial<SessionPolicy> = {}, directDisabled = false) {
  const [me, contact] = role === 'leader' ? [keys.leader, keys.follower] : [keys.follower, keys.leader];
  const side = fakeSide({ me, contact, sessions, policy: { ...policy, ...extra }, directDisabled });
  const paths: string[] = [];
  side.session.on('path', (p) => paths.push(p));
  return { ...side, paths, contact };
}

describe('Session policy (leader)', () => {
  it('gives direct its head start: the relay opens only when it ends', async () => {
    const { session, clock, relay, attempts, relays } = setup();
    session.ensure();
    await settled();
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.role).toBe('initiator');
    await clock.advance(HEAD_START - 1);
    expect(relay.kinds()).not.toContain('relay');
    expect(relay.opens).toHaveLength(0);
    await clock.advance(1);
    await relay.until(() => relay.opens.length === 1);
    expect(relay.kinds()).toContain('relay');
    expect(relays.pending[0]!.spec.role).toBe('initiator');
    relays.up();
    await settled();
    expect(session.path).toBe('relay');
  });

  it('opens the relay early when offer and answer are applied but ICE stalls', async () => {
    const { session, clock, relay, attempts } = setup();
    session.ensure();
    await clock.advance(100);
    attempts[0]!.described();
    await clock.advance(STALL - 1);
    expect(relay.kinds()).not.toContain('relay');
    await clock.advance(1);
    await relay.until(() => relay.opens.length === 1);
    expect(100 + STALL).toBeLessThan(HEAD_START); // sooner than the head start
  });

  it('goes direct when the attempt connects within the head start, and never opens the relay', async () => {
    const { session, clock, relay, attempts, paths } = setup();
    session.ensure();
    await clock.advance(200);
    attempts[0]!.connect();
    await clock.advance(HEAD_START * 3);
    expect(session.path).toBe('direct');
    expect(paths).toEqual(['direct']);
    expect(relay.opens).toHaveLength(0);
  });

  it('opens the relay at once when the attempt fails, and retries direct after the backoff', async () => {
    const { session, clock, relay, attempts } = setup();
    session.ensure();
    await clock.advance(10);
    attempts[0]!.fail(new SessionError('failed', 'ICE failed'));
    await relay.until(() => relay.opens.length === 1); // at once: no timer needed
    await clock.advance(499);
    expect(attempts).toHaveLength(1);
    await clock.advance(1);
    expect(attempts).toHaveLength(2);
  });

  it('falls back to the relay at once when direct drops, then moves back to direct when it returns', async () => {
    const { session, clock, relay, attempts, relays, paths } = setup();
    session.ensure();
    await clock.advance(HEAD_START);
    await relay.until(() => relay.opens.length === 1);
    await settled();
    const relayTransport = relays.up();
    await settled();
    expect(session.path).toBe('relay');
    const direct = attempts[0]!.connect();
    await settled();
    expect(session.path).toBe('direct');

    direct.close('ICE disconnected');
    await settled();
    expect(session.path).toBe('relay'); // at once, no wait
    expect(relayTransport.closed).toBe(false);
    expect(relay.opens).toHaveLength(1); // the open relay channel is reused

    await clock.advance(500); // directBackoff.initialMs
    expect(attempts).toHaveLength(2);
    attempts[1]!.connect();
    await settled();
    expect(session.path).toBe('direct');
    expect(paths).toEqual(['relay', 'direct', 'relay', 'direct']);
  });

  it('opens the relay on the spot when direct drops and no relay channel exists', async () => {
    const { session, clock, relay, attempts, relays } = setup();
    session.ensure();
    await clock.advance(100);
    const direct = attempts[0]!.connect();
    await settled();
    expect(relay.opens).toHaveLength(0);
    direct.close('gone');
    await settled();
    expect(session.path).toBe('none');
    await relay.until(() => relay.opens.length === 1);
    await settled();
    relays.up();
    await settled();
    expect(session.path).toBe('relay');
  });

  it('stops everything for the cooldown after a refusal, then tries again', async () => {
    const { session, clock, attempts } = setup('leader', { refusalCooldownMs: 10_000 });
    const errors: SessionError[] = [];
    session.on('error', (e) => errors.push(e));
    session.ensure();
    await clock.advance(10);
    attempts[0]!.fail(new SessionError('tampered', 'fingerprint swapped'));
    await settled();
    expect(errors.map((e) => e.code)).toEqual(['tampered']);
    session.ensure();
    await clock.advance(9_000);
    expect(attempts).toHaveLength(1);
    await clock.advance(1_000);
    session.ensure();
    await settled();
    expect(attempts).toHaveLength(2);
  });
});

describe('Session policy (relay only)', () => {
  it('the leader never attempts direct and opens the relay at once', async () => {
    const { session, relay, attempts, relays } = setup('leader', {}, true);
    session.ensure();
    await relay.until(() => relay.opens.length === 1); // no head start to wait for
    await settled();
    relays.up();
    await settled();
    expect(session.path).toBe('relay');
    expect(attempts).toHaveLength(0);
    expect(relay.kinds()).not.toContain('rtc');
  });

  it("the follower ignores the contact's offers: no attempt, no candidates of ours", async () => {
    const leader = setup('leader');
    const follower = setup('follower', {}, true);
    link(leader, follower);
    leader.session.ensure();
    await settled();
    void leader.attempts[0]!.spec.sendSignal({
      kind: 'rtc',
      sid: leader.attempts[0]!.sid,
      signal: { type: 'offer', sdp: 'v=0\r\n' },
    });
    await leader.relay.until(() => leader.relay.bodies().some((b) => b.kind === '(sealed)')); // the offer left
    await leader.clock.advance(HEAD_START); // then the leader opens the relay: a signal after the offer
    // Signals are handled in order: once the relay open is acted on, the offer was handled too.
    await follower.relay.until(() => follower.relay.opens.length === 1);
    expect(follower.attempts).toHaveLength(0);
    expect(follower.relay.kinds()).not.toContain('(sealed)');
  });
});

describe('Session policy (follower)', () => {
  it('asks the leader instead of connecting itself, at most once per interval', async () => {
    const { session, clock, relay, attempts } = setup('follower');
    session.ensure();
    session.ensure();
    await relay.until(() => relay.signals.length === 1);
    expect(attempts).toHaveLength(0);
    expect(relay.kinds()).toEqual(['session']);
    await clock.advance(DEFAULT_SESSION_POLICY.askLeaderEveryMs);
    await relay.until(() => relay.signals.length === 2);
    expect(relay.kinds()).toEqual(['session', 'session']);
  });
});

describe('Session policy (TCP path)', () => {
  /** A leader with sockets whose TCP attempt the test watches through its log. */
  function tcpLeader() {
    const connects: unknown[] = [];
    const failures: string[] = [];
    const tcp: TcpPlatform = {
      listen: () => Promise.reject(new Error('the leader does not listen')),
      connect: (hints) => {
        connects.push(hints);
        return new Promise(() => {});
      },
    };
    const logger = {
      ...silentLogger,
      info: (obj: Record<string, unknown>, msg?: string) => {
        if (msg === 'TCP attempt failed') failures.push(String(obj.reason));
      },
    };
    const side = fakeSide({ me: keys.leader, contact: keys.follower, sessions, policy, tcp, logger });
    return { ...side, connects, failures };
  }

  it('a TCP want that cannot be sent yet: the hint deadline ends the attempt, with no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const leader = tcpLeader();
      const follower = setup('follower');
      link(leader, follower);
      // The relay refuses what the leader signals, so the contact's key never comes and the sealed want waits.
      leader.relay.signal = () => Promise.reject(new Error('relay connection lost'));
      leader.session.ensure();
      await leader.clock.advance(DEFAULT_SESSION_POLICY.tcpListenMs);
      await eventually(() => leader.failures.length > 0, "the leader's TCP attempt to end");
      expect(leader.failures[0]).toContain('sent no TCP hints');
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a contact without the TCP path says so, and the leader stops waiting for hints at once', async () => {
    const leader = tcpLeader();
    const follower = setup('follower'); // no TcpPlatform: a web client, or --relay-only
    link(leader, follower);
    leader.session.ensure();
    await follower.relay.until(() => follower.relay.signals.length > 0);
    // No time passes on the leader's clock: the answer alone ends the attempt, well before its 15 s wait.
    await eventually(() => leader.failures.length > 0, "the leader's TCP attempt to end");
    expect(leader.failures[0]).toMatch(/does not listen for the TCP path/);
    expect(leader.connects).toHaveLength(0);
    expect(follower.relay.opens).toHaveLength(0);
  });

  it('a follower that can listen answers with hints, which the leader races', async () => {
    const leader = tcpLeader();
    const listener = { hints: [{ host: '192.0.2.7', port: 4242 }], onConnection: () => () => {}, close() {} };
    const follower = fakeSide({
      me: keys.follower,
      contact: keys.leader,
      sessions,
      policy,
      tcp: { listen: () => Promise.resolve(listener), connect: () => new Promise(() => {}) },
    });
    link(leader, follower);
    leader.session.ensure();
    await eventually(() => leader.connects.length > 0, 'the leader to connect');
    expect(leader.connects[0]).toEqual(listener.hints);
    expect(leader.failures).toEqual([]);
  });

  it("the leader's WebRTC attempt waits out TCP's head start while TCP is tried", async () => {
    const leader = tcpLeader();
    const listener = { hints: [{ host: '192.0.2.7', port: 4242 }], onConnection: () => () => {}, close() {} };
    const follower = fakeSide({
      me: keys.follower,
      contact: keys.leader,
      sessions,
      policy,
      tcp: { listen: () => Promise.resolve(listener), connect: () => new Promise(() => {}) },
    });
    link(leader, follower);
    leader.session.ensure();
    await eventually(() => leader.connects.length > 0, 'the leader to connect');
    expect(leader.attempts).toHaveLength(0);
    expect(leader.session.activity).toBe('direct');
    await leader.clock.advance(TCP_HEAD_START - 1);
    expect(leader.attempts).toHaveLength(0);
    await leader.clock.advance(1);
    expect(leader.attempts).toHaveLength(1);
    expect(TCP_HEAD_START).toBeLessThan(HEAD_START); // WebRTC still has time before the relay opens
  });

  it('a contact without the TCP path: the WebRTC attempt starts at once, without the head start', async () => {
    const leader = tcpLeader();
    const follower = setup('follower');
    link(leader, follower);
    leader.session.ensure();
    await eventually(() => leader.failures.length > 0, "the leader's TCP attempt to end");
    // No time passed on the leader's clock.
    expect(leader.attempts).toHaveLength(1);
  });

  it('TCP verified within its head start: no WebRTC attempt at all; when TCP drops, WebRTC and the relay start at once', async () => {
    let accepted: (socket: RecordSocket) => void = () => {};
    const listener: TcpListener = {
      hints: [{ host: '192.0.2.7', port: 4242 }],
      onConnection: (handler) => {
        accepted = handler;
        return () => {};
      },
      close() {},
    };
    const leader = fakeSide({
      me: keys.leader,
      contact: keys.follower,
      sessions,
      policy,
      tcp: {
        listen: () => Promise.reject(new Error('the leader does not listen')),
        connect: () => {
          const [mine, theirs] = MemorySocket.pair();
          accepted(theirs);
          return Promise.resolve(mine);
        },
      },
    });
    const follower = fakeSide({
      me: keys.follower,
      contact: keys.leader,
      sessions,
      policy,
      tcp: { listen: () => Promise.resolve(listener), connect: () => new Promise(() => {}) },
    });
    link(leader, follower);
    leader.session.ensure();
    await eventually(() => leader.session.route === 'tcp', 'the TCP path to verify');
    await leader.clock.advance(HEAD_START * 3);
    expect(leader.attempts).toHaveLength(0);
    expect(follower.attempts).toHaveLength(0);
    expect(leader.relay.opens).toHaveLength(0);

    follower.session.close();
    await eventually(() => leader.session.route !== 'tcp', 'the leader to see TCP drop');
    expect(leader.attempts).toHaveLength(1);
    await leader.relay.until(() => leader.relay.opens.length === 1);
  });

  it('a contact that starts afresh (a restarted receiver) gets a TCP attempt at once, not after the backoff', async () => {
    let accepted: (socket: RecordSocket) => void = () => {};
    const listener: TcpListener = {
      hints: [{ host: '192.0.2.7', port: 4242 }],
      onConnection: (handler) => {
        accepted = handler;
        return () => {};
      },
      close() {},
    };
    const TCP_RETRY_MS = 5000;
    const leader = fakeSide({
      me: keys.leader,
      contact: keys.follower,
      sessions,
      policy: { ...policy, tcpBackoff: { initialMs: TCP_RETRY_MS, maxMs: 60_000, jitter: 0 } },
      tcp: {
        listen: () => Promise.reject(new Error('the leader does not listen')),
        connect: () => {
          const [mine, theirs] = MemorySocket.pair();
          accepted(theirs);
          return Promise.resolve(mine);
        },
      },
    });
    const follower = (startLaterMs = 0) =>
      fakeSide({
        startLaterMs,
        me: keys.follower,
        contact: keys.leader,
        sessions,
        policy,
        tcp: { listen: () => Promise.resolve(listener), connect: () => new Promise(() => {}) },
      });
    const first = follower();
    link(leader, first);
    leader.session.ensure();
    await eventually(() => leader.session.route === 'tcp', 'the TCP path to verify');

    // The receiver process is killed: what the leader signals to it from now on goes nowhere.
    leader.relay.forward = null;
    first.session.close();
    await eventually(() => leader.session.route !== 'tcp', 'the leader to see TCP drop');
    // The leader's TCP retry asks the dead process for hints, and would wait tcpListenMs for them.
    const sealed = () => leader.relay.kinds().filter((k) => k === '(sealed)').length; // TCP wants (no RTC here)
    const wants = sealed();
    await leader.clock.advance(TCP_RETRY_MS);
    await leader.relay.until(() => sealed() > wants);
    const again = follower(60_000);
    link(leader, again);
    again.session.ensure(); // it asks the leader to connect
    // No more time passes on the leader's clock: the attempt waiting for the dead process's hints is dropped.
    // Both ends: the leader can see its connection verified a moment before the accepting side does.
    await eventually(
      () => leader.session.route === 'tcp' && again.session.route === 'tcp',
      'the TCP path to verify again, at both ends',
    );
    expect([leader.session.route, again.session.route]).toEqual(['tcp', 'tcp']);
  });

  it('a contact that starts afresh while the leader still dials its old address: dropped, the new one is dialled', async () => {
    const hintsOf = (port: number): TcpListener => ({
      hints: [{ host: '192.0.2.7', port }],
      onConnection: () => () => {},
      close() {},
    });
    const dialled: number[] = [];
    const leader = fakeSide({
      me: keys.leader,
      contact: keys.follower,
      sessions,
      policy,
      tcp: {
        listen: () => Promise.reject(new Error('the leader does not listen')),
        // Dials that never complete: the old process's port is gone (or filtered), so the connect hangs.
        connect: (hints) => {
          dialled.push(hints[0]!.port);
          return new Promise(() => {});
        },
      },
    });
    const follower = (port: number, startLaterMs = 0) =>
      fakeSide({
        startLaterMs,
        me: keys.follower,
        contact: keys.leader,
        sessions,
        policy,
        tcp: { listen: () => Promise.resolve(hintsOf(port)), connect: () => new Promise(() => {}) },
      });
    const first = follower(4242);
    link(leader, first);
    leader.session.ensure();
    await eventually(() => dialled.length === 1, 'the leader to dial the first process');
    expect(dialled).toEqual([4242]);

    // The receiver process is restarted (a newer epoch) while the leader's dial to it is still under way.
    first.session.close();
    const again = follower(4343, 60_000);
    link(leader, again);
    again.session.ensure();
    // No time passes on the leader's clock: no connect timeout or retry backoff has run.
    await eventually(() => dialled.length === 2, 'the leader to dial the restarted process');
    expect(dialled).toEqual([4242, 4343]);
  });
});
