// The test-side handle of a test-bed WebRTC peer, whichever runtime it lives in (Node wrtc or Chromium).
import { Inbox } from '../queue.js';
import { PeerCommand, PeerEvent, type CandidatePair, type PeerEventOf, type RtcConfig } from './protocol.js';

export interface CreateOptions {
  initiator: boolean;
  config?: RtcConfig;
  trickle?: boolean;
}

export abstract class PeerDriver {
  readonly events: Inbox<PeerEvent>;

  protected constructor(readonly label: string) {
    this.events = new Inbox<PeerEvent>(10_000, () => this.diagnostics());
  }

  /** Delivers one validated command to the peer. */
  protected abstract deliver(cmd: PeerCommand): Promise<void>;
  /** Stops the peer and everything it runs. Idempotent. */
  abstract close(): Promise<void>;
  abstract diagnostics(): string;

  /** Validates and queues an event from the peer runtime; garbage becomes an error event, never a crash. */
  protected accept(raw: unknown): void {
    const parsed = PeerEvent.safeParse(raw);
    this.events.push(
      parsed.success
        ? parsed.data
        : {
            type: 'error',
            message: `bad event from ${this.label}: ${parsed.error.message}`,
            code: 'ERR_TESTBED_EVENT',
          },
    );
  }

  command(cmd: PeerCommand): Promise<void> {
    return this.deliver(PeerCommand.parse(cmd));
  }

  next<T extends PeerEvent['type']>(
    type: T,
    timeoutMs = 15_000,
    predicate: (e: PeerEventOf<T>) => boolean = () => true,
  ): Promise<PeerEventOf<T>> {
    return this.events.next(
      (e) => e.type === type && predicate(e as PeerEventOf<T>),
      timeoutMs,
      `'${type}' event from ${this.label}`,
    ) as Promise<PeerEventOf<T>>;
  }

  create(opts: CreateOptions): Promise<void> {
    return this.command({
      type: 'create',
      initiator: opts.initiator,
      trickle: opts.trickle ?? true,
      config: opts.config ?? { iceServers: [] },
    });
  }

  signal(data: Record<string, unknown>): Promise<void> {
    return this.command({ type: 'signal', data });
  }

  sendText(text: string): Promise<void> {
    return this.command({ type: 'send', text });
  }

  pump(bytes: number, chunkSize?: number): Promise<void> {
    return this.command({ type: 'pump', bytes, ...(chunkSize ? { chunkSize } : {}) });
  }

  expect(bytes: number): Promise<void> {
    return this.command({ type: 'expect', bytes });
  }

  destroyPeer(): Promise<void> {
    return this.command({ type: 'destroy' });
  }

  /** Waits for simple-peer's `connect`; an `error` or `close` first fails fast with its message. */
  async connected(timeoutMs = 15_000): Promise<PeerEventOf<'connect'>> {
    const e = await this.events.next(
      (x) => x.type === 'connect' || x.type === 'error' || x.type === 'close',
      timeoutMs,
      `'connect' from ${this.label}`,
    );
    if (e.type === 'connect') return e;
    throw new Error(
      `${this.label} did not connect: ${e.type === 'error' ? `${e.code ?? ''} ${e.message}` : 'closed'}\n${this.diagnostics()}`,
    );
  }

  /** The currently selected ICE candidate pair (from getStats). */
  async pair(timeoutMs = 5_000): Promise<CandidatePair | null> {
    await this.command({ type: 'stats' });
    return (await this.next('pair', timeoutMs)).pair;
  }
}
