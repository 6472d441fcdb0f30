// A file sender asks its stream for the chunk size before each read (FrameStream.chunkBytes): a session stream
// that yields to a call (core/src/session/yield-pacer.ts) wants small chunks, so a frame holds the link for
// ~20 ms rather than ~170 ms. The switch happens mid-file, both ways, and the file still arrives intact.
import { describe, expect, it } from 'vitest';
import type { FrameStream } from '../../../../core/src/transfer/index.js';
import { YIELD_SLICE_MS } from '../../../../core/src/transfer/outgoing.js';
import { YIELD_CHUNK_BYTES } from '../../../../core/src/session/yield-pacer.js';
import { connect, createPeer, settled, sha256 } from './harness.js';
import { randomBytes } from './memory-io.js';

const MiB = 1024 * 1024;

describe('transfer engine: chunk size from the stream', () => {
  it('uses the smaller chunks a yielding stream asks for, from mid-file on, and the larger ones again after', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob');
    const data = randomBytes(6 * MiB + 777, 11);
    const { link } = connect(alice, bob, { latencyMs: 1 });
    let wanted: number | undefined;
    (link.a as FrameStream).chunkBytes = () => wanted;
    const sizes: number[] = [];
    let sent = 0;
    link.a.fault = (frame) => {
      sizes.push(frame.length);
      sent += frame.length;
      // A call starts after ~1 MiB and ends after ~4 MiB.
      if (sent > MiB && sent < 4 * MiB) wanted = YIELD_CHUNK_BYTES;
      else if (sent >= 4 * MiB) wanted = undefined;
      return frame;
    };
    alice.sources.add('/src/a.bin', data);
    const [offer] = await alice.engine.send('bob', [
      { relativePath: 'a.bin', source: '/src/a.bin', size: data.length },
    ]);
    expect((await settled(alice.engine, offer!.offerId)).state).toBe('done');
    await bob.engine.idle();
    expect(sha256(bob.disk.finals().get('a.bin')!)).toBe(sha256(data));
    const chunks = sizes.filter((s) => s > 1024);
    const small = chunks.filter((s) => s <= YIELD_CHUNK_BYTES + 128);
    const large = chunks.filter((s) => s > 200 * 1024);
    // Most of the 3 MiB in small chunks (up to 1 MiB read ahead before the switch keeps its size).
    expect(small.length).toBeGreaterThan((1.5 * MiB) / YIELD_CHUNK_BYTES);
    expect(large.length).toBeGreaterThan(4);
    // Large, then small, then large again: the switch takes effect mid-file both ways.
    const firstSmall = chunks.findIndex((s) => s <= YIELD_CHUNK_BYTES + 128);
    expect(chunks.slice(0, firstSmall).every((s) => s > 200 * 1024)).toBe(true);
    expect(chunks.at(-2)!).toBeGreaterThan(200 * 1024);
  });
});

describe('transfer engine: a sender yielding to a call gives the event loop turns', () => {
  // In the browser the call's media passes through the page's main thread; a file's start ran as one long task
  // (reads, hashing and framing all resolve as microtasks while the windows have room) and held the call's
  // audio back. While the stream yields, the sender takes a timer turn after YIELD_SLICE_MS of work.
  async function chunksPerTask(yielding: boolean): Promise<number[]> {
    let t = 0;
    // A busy clock: every reading is a millisecond later, so a slice is a few chunks.
    const alice = await createPeer('alice', { now: () => (t += 1) });
    const bob = await createPeer('bob');
    const data = randomBytes(4 * MiB, 12);
    const { link } = connect(alice, bob);
    (link.a as FrameStream).chunkBytes = () => (yielding ? YIELD_CHUNK_BYTES : undefined);
    const perTask: number[] = [0];
    link.a.fault = (frame) => {
      if (frame.length > 1024) perTask[perTask.length - 1]! += 1;
      return frame;
    };
    let ticking = true;
    const tick = (): void => {
      perTask.push(0);
      if (ticking) setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    alice.sources.add('/src/a.bin', data);
    const [offer] = await alice.engine.send('bob', [
      { relativePath: 'a.bin', source: '/src/a.bin', size: data.length },
    ]);
    expect((await settled(alice.engine, offer!.offerId)).state).toBe('done');
    ticking = false;
    await bob.engine.idle();
    expect(sha256(bob.disk.finals().get('a.bin')!)).toBe(sha256(data));
    return perTask;
  }

  it('sends a few chunks per task while yielding, where it sent a window of them at once before', async () => {
    const yielding = await chunksPerTask(true);
    // Each chunk reads the busy clock a few times: a slice of 8 ms is a few chunks, never the window.
    expect(Math.max(...yielding)).toBeLessThanOrEqual(Math.ceil(YIELD_SLICE_MS / 2) + 1);
    expect(yielding.reduce((a, b) => a + b, 0)).toBe((4 * MiB) / YIELD_CHUNK_BYTES);
  });
});
