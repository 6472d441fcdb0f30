// In-memory relay double for call unit tests (no WebRTC here: real peers run in tests/integration/call).
// Like the real relay it stamps the sender, round-trips data through JSON, delivers asynchronously and in order,
// and rejects a signal to an identity that is not connected with RelayError 'offline'.
import type { RelayState } from '../../../../core/src/api.js';
import type { CallRelay } from '../../../../core/src/call/index.js';
import { RelayError } from '../../../../core/src/relay/errors.js';

type Listener = (value: { from: string; data: Record<string, unknown> }) => void;

export class RelayHub {
  readonly endpoints = new Map<string, RelayEndpoint>();
  /** Every delivered signal, for assertions. */
  readonly log: Array<{ from: string; to: string; data: Record<string, unknown> }> = [];
  /** Signals handed to an endpoint and not yet dispatched to its listeners. */
  inFlight = 0;
  readonly #quiet = new Set<() => void>();

  /** Resolves once no signal is in flight. */
  delivered(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#quiet.add(resolve));
  }

  /** @internal */
  dispatched(): void {
    if (--this.inFlight > 0) return;
    for (const resolve of [...this.#quiet]) resolve();
    this.#quiet.clear();
  }

  /** Rewrites or drops (return null) a signal in flight, like a hostile relay. */
  tamper: ((from: string, to: string, data: Record<string, unknown>) => Record<string, unknown> | null) | null = null;

  endpoint(id: string): RelayEndpoint {
    const e = new RelayEndpoint(this, id);
    this.endpoints.set(id, e);
    return e;
  }

  /** Delivers a signal as if `from` had sent it (hostile or forged input). */
  inject(from: string, to: string, data: Record<string, unknown>): void {
    const target = this.endpoints.get(to);
    if (!target || target.state !== 'online') throw new Error(`${to} is not connected`);
    target.deliver(from, data);
  }

  route(from: string, to: string, data: Record<string, unknown>): Promise<void> {
    const target = this.endpoints.get(to);
    if (!target || target.state !== 'online')
      return Promise.reject(new RelayError('offline', 'the contact is not connected to the relay'));
    let wire = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
    if (this.tamper) {
      const changed = this.tamper(from, to, wire);
      if (changed === null) return Promise.resolve();
      wire = changed;
    }
    this.log.push({ from, to, data: wire });
    target.deliver(from, wire);
    return Promise.resolve();
  }
}

export class RelayEndpoint implements CallRelay {
  state: RelayState = 'online';
  readonly #listeners = new Set<Listener>();
  sent = 0;

  constructor(
    private readonly hub: RelayHub,
    readonly id: string,
  ) {}

  signal(to: string, data: Record<string, unknown>): Promise<void> {
    this.sent++;
    if (this.state !== 'online') return Promise.reject(new RelayError('timeout', 'the relay stayed unreachable'));
    return this.hub.route(this.id, to, data);
  }

  on(event: 'signal', listener: Listener): () => void {
    if (event !== 'signal') throw new Error(`unexpected event ${String(event)}`);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  deliver(from: string, data: Record<string, unknown>): void {
    // Asynchronous like a network hop, in order (setTimeout callbacks of equal delay run in order).
    this.hub.inFlight++;
    setTimeout(() => {
      try {
        if (this.state !== 'online') return;
        for (const l of [...this.#listeners]) l({ from, data });
      } finally {
        this.hub.dispatched();
      }
    }, 0);
  }
}
