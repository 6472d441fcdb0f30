// Fakes for Session policy tests: a clock that moves only when told, a relay that records what the
// session asks of it, direct attempts and transports the test drives by hand.
import { afterEach, beforeAll } from 'vitest';
import type { RelayState } from '../../../../core/src/api.js';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/keys.js';
import type { Logger } from '../../../../core/src/platform/types.js';
import type { Role } from '../../../../core/src/crypto/roles.js';
import { RelayChannelSocket } from '../../../../core/src/relay/channel.js';
import type { RelayClientEvents } from '../../../../core/src/relay/client.js';
import {
  Session,
  type AttemptSpec,
  type DirectAttemptLike,
  type RelayTransportSpec,
  type SessionPolicy,
  type SessionRelay,
} from '../../../../core/src/session/session.js';
import type { RtcSignal } from '../../../../core/src/session/signals.js';
import type { TcpPlatform } from '../../../../core/src/session/tcp-path.js';
import type { FrameTransport, TransportPath } from '../../../../core/src/session/transport.js';
import type { Clock, TimerId } from '../../../../core/src/util/clock.js';
import { deferred, type Deferred } from '../../../../core/src/util/deferred.js';
import { Emitter } from '../../../../core/src/util/emitter.js';
import { FramePipe } from '../../../../core/src/util/frame-pipe.js';

/** Lets every pending promise callback run (a macrotask comes after all queued microtasks). */
export const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
  #now: number;
  #next = 1;
  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerId {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), callback });
    return id as unknown as TimerId;
  }

  clearTimeout(timer: TimerId | undefined): void {
    if (timer !== undefined) this.#timers.delete(timer as unknown as number);
  }

  /** Moves time forward by `ms`, running each due timer at its own time, in order, with promises settled between. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await settled();
      let due: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].callback();
    }
    this.#now = end;
    await settled();
  }
}

export class FakeTransport extends FramePipe implements FrameTransport {
  readonly sent: Uint8Array[] = [];
  constructor(readonly path: TransportPath) {
    super(1 << 20);
  }
  get bufferedAmount(): number {
    return 0;
  }
  send(frame: Uint8Array): void {
    if (this.closed) throw new Error('closed');
    this.sent.push(frame);
  }
  close(reason = 'closed'): void {
    this.markClosed(reason);
  }
}

export class FakeAttempt implements DirectAttemptLike {
  readonly spec: AttemptSpec;
  readonly sid: string;
  readonly role: Role;
  readonly signals: RtcSignal[] = [];
  destroyed: string | null = null;
  readonly #result: Deferred<FrameTransport> = deferred();
  readonly #events = new Emitter<{ described: void }>();
  readonly ready: Promise<FrameTransport>;

  constructor(spec: AttemptSpec) {
    this.spec = spec;
    this.sid = spec.sid;
    this.role = spec.role;
    this.ready = this.#result.promise;
  }
  on(event: 'described', listener: () => void): () => void {
    return this.#events.on(event, listener);
  }
  onRemoteSignal(msg: RtcSignal): void {
    this.signals.push(msg);
  }
  destroy(reason = 'destroyed'): void {
    this.destroyed = reason;
    this.#result.reject(new Error(reason));
  }
  /** Offer and answer applied. */
  described(): void {
    this.#events.emit('described', undefined);
  }
  connect(): FakeTransport {
    const transport = new FakeTransport('direct');
    this.#result.resolve(transport);
    return transport;
  }
  fail(error: Error): void {
    this.#result.reject(error);
  }
}

/** The relay as the session sees it: online, the contact online, every request recorded. */
export class FakeRelay implements SessionRelay {
  state: RelayState = 'online';
  readonly online = new Set<string>();
  readonly signals: Array<{ to: string; data: Record<string, unknown> }> = [];
  readonly opens: Array<{ to: string; tag: string }> = [];
  readonly #events = new Emitter<RelayClientEvents>();
  readonly #changed = new Emitter<{ change: void }>();
  /** Set by link(): where what is sent arrives (a macrotask later, in order, like over a network). */
  forward: ((data: Record<string, unknown>) => void) | null = null;

  isOnline(id: string): boolean {
    return this.online.has(id);
  }
  signal(to: string, data: Record<string, unknown>): Promise<void> {
    this.signals.push({ to, data });
    this.#changed.emit('change', undefined);
    const forward = this.forward;
    if (forward) setImmediate(() => forward(JSON.parse(JSON.stringify(data)) as Record<string, unknown>));
    return Promise.resolve();
  }
  openChannel(to: string, tag: string): Promise<RelayChannelSocket> {
    this.opens.push({ to, tag });
    this.#changed.emit('change', undefined);
    const host = { sendFrame() {}, sendFramed() {}, closeChannel() {}, bufferedAmount: 0 };
    return Promise.resolve(new RelayChannelSocket(host, this.opens.length, to, tag));
  }
  on<K extends keyof RelayClientEvents>(event: K, listener: (value: RelayClientEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }
  emit<K extends keyof RelayClientEvents>(event: K, value: RelayClientEvents[K]): void {
    this.#events.emit(event, value);
  }
  /** The signals sent so far as the contact reads them (the body of each signed envelope). */
  bodies(): Array<Record<string, unknown>> {
    return this.signals.map((s) => {
      if (s.data.kind !== 'session-signal') return s.data;
      return s.data.box ? { kind: '(sealed)' } : (JSON.parse(String(s.data.body)) as Record<string, unknown>);
    });
  }
  /** The `kind` of every signal sent so far. */
  kinds(): string[] {
    return this.bodies().map((b) => String(b.kind));
  }
  /** Resolves once `condition` holds (signals are signed asynchronously, so they leave a little later). */
  async until(condition: () => boolean): Promise<void> {
    if (!condition()) {
      await new Promise<void>((resolve) => {
        const off = this.#changed.on('change', () => {
          if (!condition()) return;
          off();
          resolve();
        });
      });
    }
    await settled(); // and what the session does right after it
  }
}

/** Relay transports the session asked for; each is settled by the test. */
export class RelayTransports {
  readonly pending: Array<{ spec: RelayTransportSpec; result: Deferred<FrameTransport> }> = [];
  readonly establish = (spec: RelayTransportSpec): Promise<FrameTransport> => {
    const result = deferred<FrameTransport>();
    this.pending.push({ spec, result });
    return result.promise;
  };
  /** Completes the latest handshake with a fresh relay transport. */
  up(): FakeTransport {
    const last = this.pending.at(-1);
    if (!last) throw new Error('no relay transport was asked for');
    const transport = new FakeTransport('relay');
    last.result.resolve(transport);
    return transport;
  }
}

/** Lets the event loop turn until `condition` holds (signature checks finish on another thread); bounded. */
export async function eventually(condition: () => boolean, what = 'the condition'): Promise<void> {
  for (let turn = 0; !condition(); turn++) {
    if (turn > 100_000) throw new Error(`${what} never came true`);
    await settled();
  }
}

/** Connects two sessions' fake relays: what one sends, the other's session receives. */
export function link(
  a: { relay: FakeRelay; session: { handleSignal(data: Record<string, unknown>): void } },
  b: { relay: FakeRelay; session: { handleSignal(data: Record<string, unknown>): void } },
): void {
  a.relay.forward = (data) => b.session.handleSignal(data);
  b.relay.forward = (data) => a.session.handleSignal(data);
}

/** Two identities made once per file, ordered by id: the leader has the smaller id (it leads the session). */
export function useOrderedIdentities(): { readonly leader: IdentityKeyPair; readonly follower: IdentityKeyPair } {
  const keys = {} as { leader: IdentityKeyPair; follower: IdentityKeyPair };
  beforeAll(async () => {
    const [a, b] = await Promise.all([
      generateIdentityKeyPair({ extractable: false }),
      generateIdentityKeyPair({ extractable: false }),
    ]);
    [keys.leader, keys.follower] = a.id < b.id ? [a, b] : [b, a];
  });
  return keys;
}

/** Sessions a test makes; each is closed after its test. */
export function useSessions(): Session[] {
  const sessions: Session[] = [];
  afterEach(() => {
    for (const s of sessions.splice(0)) s.close();
  });
  return sessions;
}

export interface FakeSideOptions {
  me: IdentityKeyPair;
  contact: IdentityKeyPair;
  /** Where the session goes, to be closed after the test (see useSessions). */
  sessions: Session[];
  policy?: Partial<SessionPolicy>;
  directDisabled?: boolean;
  logger?: Logger;
  /** The TCP path's platform (the CLI's has sockets; without one the session has no TCP path). */
  tcp?: TcpPlatform;
  /** Start the fake clock this much later (a process started afresh signs in a newer epoch). */
  startLaterMs?: number;
}

/** One side of a session: the real Session with a fake clock, relay (the contact online), attempts and relay transports. */
export function fakeSide(o: FakeSideOptions) {
  const clock = new FakeClock(1_700_000_000_000 + (o.startLaterMs ?? 0));
  const relay = new FakeRelay();
  relay.online.add(o.contact.id);
  const attempts: FakeAttempt[] = [];
  const relays = new RelayTransports();
  const session = new Session({
    identity: o.me,
    contactId: o.contact.id,
    contactKey: o.contact.publicKey,
    relay,
    clock,
    ...(o.policy ? { policy: o.policy } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
    ...(o.directDisabled ? { directDisabled: true } : {}),
    ...(o.tcp ? { tcp: o.tcp } : {}),
    createAttempt: (spec) => {
      const attempt = new FakeAttempt(spec);
      attempts.push(attempt);
      return attempt;
    },
    establishRelay: relays.establish,
  });
  o.sessions.push(session);
  return { session, clock, relay, attempts, relays };
}
