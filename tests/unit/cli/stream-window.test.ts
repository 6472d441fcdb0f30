// The CLI's session stream window (cli/src/engine.ts CLI_MESSENGER_TUNING): a transfer over the relay may keep
// the transfer engine's whole relay window in flight. With the stream's 4 MiB default, the stream stalled the
// sender at 4 MiB and the engine's 8 MiB relay window never opened: a pipeline of three busy processes (sender,
// relay, receiver) then waited on acknowledgements. Two real engines on real reliable streams over a relay-path
// transport that holds what the sender sends (acknowledgements still in transit), a real file.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_MESSENGER_TUNING } from '../../../cli/src/engine.js';
import { ReliableStream, StreamKind } from '../../../core/src/session/stream.js';
import type { FrameTransport } from '../../../core/src/session/transport.js';
import { DEFAULT_RELAY_WINDOW_BYTES, TransferEngine, type FrameStream } from '../../../core/src/transfer/index.js';
import { NodeFileSink, NodeFileSource } from '../../../platform/node/src/file-io.js';
import { nodeBlockHash } from '../../../platform/node/src/hash.js';
import { MemoryKV } from '../core/transfer/memory-io.js';

const MiB = 1024 * 1024;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** One end of a relay-path pipe; the a→b direction can hold frames (in transit) instead of delivering them. */
class HeldEnd implements FrameTransport {
  readonly path = 'relay' as const;
  closed = false;
  bufferedAmount = 0;
  peer!: HeldEnd;
  hold = false;
  held: Uint8Array[] = [];
  heldBytes = 0;
  #handlers: Array<(f: Uint8Array) => void> = [];
  #early: Uint8Array[] = [];

  send(frame: Uint8Array): void {
    const copy = frame.slice();
    if (this.hold) {
      this.held.push(copy);
      this.heldBytes += copy.length;
      return;
    }
    setImmediate(() => this.peer.deliver(copy));
  }

  deliver(frame: Uint8Array): void {
    if (this.#handlers.length === 0) this.#early.push(frame);
    for (const h of this.#handlers) h(frame);
  }

  onFrame(handler: (frame: Uint8Array) => void): () => void {
    this.#handlers.push(handler);
    for (const f of this.#early.splice(0)) handler(f);
    return () => (this.#handlers = this.#handlers.filter((h) => h !== handler));
  }

  onDrain(): () => void {
    return () => {};
  }

  onClose(): () => void {
    return () => {};
  }

  close(): void {
    this.closed = true;
  }
}

function frameStream(stream: ReliableStream): FrameStream {
  return {
    send: (p, onAcked) => stream.send(StreamKind.File, p, { transfer: true, ...(onAcked ? { onAcked } : {}) }),
    onFrame: (h) => stream.onFrame(StreamKind.File, h),
    path: () => 'relay',
  };
}

/** Bytes the sender puts in flight over the relay before it waits for the receiver, with this stream window. */
async function inFlightAtStall(streamWindowBytes: number | undefined): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-window-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const size = 32 * MiB;
  const path = join(dir, 'big.bin');
  await writeFile(path, randomBytes(size));
  const engines = await Promise.all(
    ['a', 'b'].map(async (side) => {
      const e = new TransferEngine({
        store: new MemoryKV().view(),
        source: new NodeFileSource(),
        sink: new NodeFileSink(join(dir, side), { sync: false }),
        isKnownContact: () => true,
        decide: () => 'accept',
        blockHash: nodeBlockHash,
      });
      await e.start();
      cleanups.push(() => e.close());
      return e;
    }),
  );
  const [ta, tb] = [new HeldEnd(), new HeldEnd()];
  ta.peer = tb;
  tb.peer = ta;
  const options = streamWindowBytes === undefined ? {} : { windowBytes: streamWindowBytes };
  const [sa, sb] = [new ReliableStream(options), new ReliableStream(options)];
  cleanups.push(
    () => sa.close(),
    () => sb.close(),
  );
  sa.attach(ta, { current: true });
  sb.attach(tb, { current: true });
  engines[0]!.attach('bob', frameStream(sa));
  engines[1]!.attach('alice', frameStream(sb));
  // Once the receiver accepted, everything the sender sends stays in transit: nothing is acknowledged.
  const accepted = new Promise<void>((resolve) => engines[1]!.on('state', (s) => s.state === 'active' && resolve()));
  await engines[0]!.send('bob', [{ relativePath: 'big.bin', source: path, size }]);
  await accepted;
  ta.hold = true;
  // The sender stops when a window is full. No event says so: watch the bytes in transit stay put for 50
  // turns of 2 ms (file reads included), once they have started.
  let last = -1;
  for (let still = 0, turns = 0; (still < 50 || last === 0) && turns < 5000; turns++) {
    await new Promise((r) => setTimeout(r, 2));
    still = ta.heldBytes === last ? still + 1 : 0;
    last = ta.heldBytes;
  }
  return ta.heldBytes;
}

describe('the CLI session stream window', () => {
  it('lets a relay transfer fill the engine’s relay window; the stream’s default stalls it at half', async () => {
    expect(CLI_MESSENGER_TUNING.streamWindowBytes).toBeGreaterThanOrEqual(DEFAULT_RELAY_WINDOW_BYTES);
    const tuned = await inFlightAtStall(CLI_MESSENGER_TUNING.streamWindowBytes);
    const stock = await inFlightAtStall(undefined);
    expect(stock).toBeLessThanOrEqual(4 * MiB + 64 * 1024);
    expect(tuned).toBeGreaterThan(DEFAULT_RELAY_WINDOW_BYTES - MiB);
    expect(tuned).toBeLessThanOrEqual(DEFAULT_RELAY_WINDOW_BYTES + 64 * 1024);
  });
});
