// Both ends of one file on a bulk lane, as pure state: which frame may come next, and where the bytes go.
// The receiver names where to start (START: the end of what it has verified on disk), then takes DATA only
// at exactly the next offset and never past the file's size; it acknowledges what it has flushed. The sender
// sends from the START offset on and accepts acknowledgements only for bytes it sent, never going back.
// A frame against these rules is a BulkLaneError: the lane ends, nothing out of place is ever written, and
// the file resumes from the receiver's verified offset on a new lane or on the session stream.
import { BulkLaneError, type LaneFrame } from './bulk-frame.js';

function checkSize(size: number, from = 0): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError('a file size is a safe non-negative integer');
  if (!Number.isSafeInteger(from) || from < 0 || from > size)
    throw new RangeError('the start offset must be in the file');
}

export type ReceiverStep = { kind: 'write'; offset: number; data: Uint8Array } | { kind: 'failed'; reason: string };

export class LaneReceiveState {
  #next: number;
  #acked: number;

  constructor(
    readonly size: number,
    readonly from: number,
  ) {
    checkSize(size, from);
    this.#next = from;
    this.#acked = from;
  }

  /** The START frame to send first. */
  start(): LaneFrame {
    return { kind: 'start', offset: this.from };
  }

  /** Bytes taken so far (the file offset the next DATA must carry). */
  get next(): number {
    return this.#next;
  }

  get acked(): number {
    return this.#acked;
  }

  /** Every byte of the file arrived. */
  get complete(): boolean {
    return this.#next === this.size;
  }

  /** One frame from the sender. Throws BulkLaneError for anything out of place. */
  receive(frame: LaneFrame): ReceiverStep {
    if (frame.kind === 'fail') return { kind: 'failed', reason: frame.reason };
    if (frame.kind !== 'data')
      throw new BulkLaneError('bad-frame', `a sender does not send ${frame.kind.toUpperCase()}`);
    if (frame.offset !== this.#next)
      throw new BulkLaneError('out-of-order', `DATA at ${frame.offset}, expected ${this.#next}`);
    if (frame.offset + frame.data.length > this.size)
      throw new BulkLaneError(
        'overrun',
        `DATA runs to ${frame.offset + frame.data.length}, past the size ${this.size}`,
      );
    this.#next += frame.data.length;
    return { kind: 'write', offset: frame.offset, data: frame.data };
  }

  /** The ACK frame for bytes flushed up to `offset` (only forward, only what arrived). */
  ack(offset: number): LaneFrame {
    if (!Number.isSafeInteger(offset) || offset < this.#acked || offset > this.#next)
      throw new RangeError(`cannot acknowledge ${offset} (acknowledged ${this.#acked}, received ${this.#next})`);
    this.#acked = offset;
    return { kind: 'ack', offset };
  }
}

export type SenderStep =
  { kind: 'started'; offset: number } | { kind: 'acked'; offset: number } | { kind: 'failed'; reason: string };

export class LaneSendState {
  #started = false;
  #sent = 0;
  #acked = 0;

  constructor(readonly size: number) {
    checkSize(size);
  }

  get started(): boolean {
    return this.#started;
  }

  /** File offset of the next byte to send. */
  get sent(): number {
    return this.#sent;
  }

  /** File offset up to which the receiver flushed. */
  get acked(): number {
    return this.#acked;
  }

  /** The receiver has every byte on disk. */
  get complete(): boolean {
    return this.#started && this.#acked === this.size;
  }

  /** One frame from the receiver. Throws BulkLaneError for anything out of place. */
  receive(frame: LaneFrame): SenderStep {
    if (frame.kind === 'fail') return { kind: 'failed', reason: frame.reason };
    if (frame.kind === 'data') throw new BulkLaneError('bad-frame', 'a receiver does not send DATA');
    if (frame.kind === 'start') {
      if (this.#started) throw new BulkLaneError('out-of-order', 'a second START');
      if (frame.offset > this.size)
        throw new BulkLaneError('overrun', `START at ${frame.offset}, past the size ${this.size}`);
      this.#started = true;
      this.#sent = frame.offset;
      this.#acked = frame.offset;
      return { kind: 'started', offset: frame.offset };
    }
    if (!this.#started) throw new BulkLaneError('out-of-order', 'ACK before START');
    if (frame.offset < this.#acked)
      throw new BulkLaneError('out-of-order', `ACK ${frame.offset} goes back from ${this.#acked}`);
    if (frame.offset > this.#sent)
      throw new BulkLaneError('overrun', `ACK ${frame.offset} for bytes not sent (${this.#sent})`);
    this.#acked = frame.offset;
    return { kind: 'acked', offset: frame.offset };
  }

  /** The next range to send (at most `max` bytes), advancing; null once everything is sent. */
  take(max: number): { offset: number; length: number } | null {
    if (!this.#started) throw new BulkLaneError('out-of-order', 'nothing may be sent before START');
    if (this.#sent >= this.size) return null;
    const offset = this.#sent;
    const length = Math.min(max, this.size - offset);
    this.#sent += length;
    return { offset, length };
  }
}
