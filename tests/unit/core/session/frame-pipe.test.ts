// The one rule every transport follows (util/frame-pipe): early frames kept for the first handler, one
// close told to every handler (also to one added after the close), drain only after the mark was crossed.
import { describe, expect, it } from 'vitest';
import { FramePipe } from '../../../../core/src/util/frame-pipe.js';

class TestPipe extends FramePipe {
  buffered = 0;
  constructor() {
    super(100);
  }
  get bufferedAmount(): number {
    return this.buffered;
  }
  arrive(frame: number): void {
    this.emitFrame(new Uint8Array([frame]));
  }
  sent(bytes: number): void {
    this.buffered += bytes;
    this.noteBuffered();
  }
  drainedTo(bytes: number): void {
    this.buffered = bytes;
    this.checkDrain();
  }
  close(reason: string): boolean {
    return this.markClosed(reason);
  }
}

describe('FramePipe', () => {
  it('keeps frames that arrive before the first handler and hands them over in order', () => {
    const pipe = new TestPipe();
    pipe.arrive(1);
    pipe.arrive(2);
    const got: number[] = [];
    pipe.onFrame((f) => got.push(f[0]!));
    pipe.arrive(3);
    expect(got).toEqual([1, 2, 3]);
  });

  it('tells every close handler once, and one added after the close a microtask later', async () => {
    const pipe = new TestPipe();
    const before: string[] = [];
    pipe.onClose((r) => before.push(r));
    expect(pipe.close('gone')).toBe(true);
    expect(pipe.close('again')).toBe(false);
    expect(before).toEqual(['gone']);
    expect(pipe.closed).toBe(true);
    const late: string[] = [];
    pipe.onClose((r) => late.push(r));
    expect(late).toEqual([]); // never synchronously inside onClose()
    const cancelled: string[] = [];
    pipe.onClose((r) => cancelled.push(r))();
    await Promise.resolve();
    expect(late).toEqual(['gone']);
    expect(cancelled).toEqual([]);
    // Frames after the close go nowhere.
    const frames: number[] = [];
    pipe.onFrame((f) => frames.push(f[0]!));
    pipe.arrive(9);
    expect(frames).toEqual([]);
  });

  it('fires drain once, only after a send pushed the buffer above the mark and it fell back', () => {
    const pipe = new TestPipe();
    let drains = 0;
    pipe.onDrain(() => drains++);
    pipe.sent(50);
    pipe.drainedTo(0);
    expect(drains).toBe(0); // never above: no drain
    pipe.sent(150);
    pipe.drainedTo(120);
    expect(drains).toBe(0); // still above
    pipe.drainedTo(100);
    pipe.drainedTo(0);
    expect(drains).toBe(1);
  });
});
