// Signaling for test-bed peers, relayed by the test process itself: no signaling server, no network from the
// root namespace. Each direction is a promise chain so signals arrive in the order they were produced.
import type { PeerDriver, CreateOptions } from './driver.js';

export interface Relay {
  stop(): void;
  /** Errors from forwarding (e.g. the other side is gone); empty when everything went through. */
  readonly errors: unknown[];
}

export function relaySignals(a: PeerDriver, b: PeerDriver): Relay {
  const errors: unknown[] = [];
  const forward = (from: PeerDriver, to: PeerDriver): (() => void) => {
    let chain = Promise.resolve();
    return from.events.tap((e) => {
      if (e.type !== 'signal') return false;
      chain = chain.then(() => to.signal(e.data)).catch((err: unknown) => void errors.push(err));
      return true;
    });
  };
  const offA = forward(a, b);
  const offB = forward(b, a);
  return {
    errors,
    stop: () => {
      offA();
      offB();
    },
  };
}

export interface ConnectResult {
  /** Wall time in the test process from the first `create` until both sides reported `connect`. */
  ms: number;
  relay: Relay;
}

/** Creates `initiator` and `responder`, relays their signals and waits until both are connected. */
export async function connectPeers(
  initiator: PeerDriver,
  responder: PeerDriver,
  opts: Omit<CreateOptions, 'initiator'> & { timeoutMs?: number } = {},
): Promise<ConnectResult> {
  const relay = relaySignals(initiator, responder);
  const start = performance.now();
  await responder.create({ ...opts, initiator: false });
  await initiator.create({ ...opts, initiator: true });
  await Promise.all([initiator.connected(opts.timeoutMs), responder.connected(opts.timeoutMs)]);
  return { ms: performance.now() - start, relay };
}
