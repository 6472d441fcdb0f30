// Confirmation of sent signals. The relay answers a connection's messages in order, so a ping sent after a
// batch of signals is a barrier: its pong confirms every signal of the batch the relay did not refuse by
// ref (an 'offline' error names the ref it refuses). One ping per batch (per tick), not per signal.
import type { Deferred } from '../util/deferred.js';
import { RelayError } from './errors.js';

const CONFIRM_PREFIX = 'c';

export class SignalConfirmations {
  readonly #sendJson: (msg: Record<string, unknown>) => void;
  readonly #online: () => boolean;
  /** Signals written but not yet confirmed: ref → result. */
  readonly #unconfirmed = new Map<string, { to: string; result: Deferred<void> }>();
  #batch: string[] = [];
  readonly #barriers = new Map<string, string[]>();
  #refCounter = 0;

  constructor(sendJson: (msg: Record<string, unknown>) => void, online: () => boolean) {
    this.#sendJson = sendJson;
    this.#online = online;
  }

  /** Writes a signal (the connection is online); `result` settles when the relay confirms or refuses it. */
  send(to: string, data: Record<string, unknown>, result: Deferred<void>): void {
    this.sendWithRef({ type: 'signal', to, data }, result);
  }

  /** Any message the relay refuses by ref or else confirms at the barrier (a signal, a mail). */
  sendWithRef(msg: Record<string, unknown> & { to: string }, result: Deferred<void>): void {
    const ref = `${CONFIRM_PREFIX}${++this.#refCounter}`;
    this.#unconfirmed.set(ref, { to: msg.to, result });
    this.#sendJson({ ...msg, ref });
    this.#batch.push(ref);
    if (this.#batch.length === 1) queueMicrotask(() => this.#sendBarrier());
  }

  /** A pong: true if it was one of our barriers. */
  onPong(ref: string): boolean {
    const refs = this.#barriers.get(ref);
    if (!refs) return false;
    this.#barriers.delete(ref);
    for (const r of refs) {
      const pending = this.#unconfirmed.get(r);
      this.#unconfirmed.delete(r);
      pending?.result.resolve();
    }
    return true;
  }

  /** A relay error naming a ref: true if it refused one of our signals (which then fails with `error`). */
  onRefused(ref: string, error: RelayError): boolean {
    const pending = this.#unconfirmed.get(ref);
    if (!pending) return false;
    this.#unconfirmed.delete(ref);
    pending.result.reject(error);
    return true;
  }

  /** The connection dropped: nothing pending can be confirmed any more. */
  failAll(code: 'disconnected' | 'closed', reason: string): void {
    for (const [, { result }] of this.#unconfirmed)
      result.reject(new RelayError(code, `relay connection lost before the signal was confirmed (${reason})`));
    this.#unconfirmed.clear();
    this.#barriers.clear();
    this.#batch = [];
  }

  #sendBarrier(): void {
    const refs = this.#batch;
    this.#batch = [];
    if (refs.length === 0 || !this.#online()) return;
    const ref = `${CONFIRM_PREFIX}b${++this.#refCounter}`;
    this.#barriers.set(ref, refs);
    this.#sendJson({ type: 'ping', ref });
  }
}
