// renderer/src/call-media/engine.ts: the media worker made ready ahead (prepare), so a move to the relay does
// not wait for a worker to load and its codecs to start (0.3–0.8 s on a busy machine). The browser parts are
// doubles here (Worker, track generators); the real pipeline runs in tests/e2e/call-relay.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWebCodecsEngine } from '../../../../renderer/src/call-media/engine.js';
import type { RelayMediaStartOptions } from '../../../../core/src/call/relay-media/pipeline.js';

class FakeWorker {
  static made: FakeWorker[] = [];
  readonly posted: Array<{ type: string }> = [];
  terminated = false;
  onerror: ((ev: { message: string }) => void) | null = null;
  onmessage: ((ev: unknown) => void) | null = null;
  constructor(readonly url: URL) {
    FakeWorker.made.push(this);
  }
  postMessage(message: { type: string }): void {
    this.posted.push(message);
  }
  terminate(): void {
    this.terminated = true;
  }
}

const GLOBALS = [
  'Worker',
  'MediaStream',
  'MediaStreamTrackProcessor',
  'MediaStreamTrackGenerator',
  'VideoEncoder',
  'AudioEncoder',
] as const;
const g = globalThis as unknown as Record<string, unknown>;
const saved = new Map<string, unknown>();
let stoppedGenerators = 0;

beforeEach(() => {
  for (const name of GLOBALS) saved.set(name, g[name]);
  FakeWorker.made = [];
  g.Worker = FakeWorker;
  g.MediaStream = class {
    constructor(readonly tracks: unknown[]) {}
    addTrack(): void {}
    removeTrack(): void {}
  };
  g.MediaStreamTrackProcessor = class {};
  stoppedGenerators = 0;
  g.MediaStreamTrackGenerator = class {
    readonly writable = {};
    constructor(readonly init: { kind: string }) {}
    stop(): void {
      stoppedGenerators++;
    }
  };
  g.VideoEncoder = class {};
  g.AudioEncoder = class {};
});

afterEach(() => {
  for (const [name, value] of saved) g[name] = value;
});

const options = (errors: string[]): RelayMediaStartOptions => ({
  tracks: [],
  onFrame: () => undefined,
  onKeyFrameNeeded: () => undefined,
  onError: (message) => errors.push(message),
  logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
});

describe('the browser relay media engine', () => {
  it('prepare() loads one media worker ahead and warms its codecs; the next start() takes it, the one after loads its own', () => {
    const engine = createWebCodecsEngine()!;
    engine.prepare!();
    engine.prepare!(); // idempotent
    expect(FakeWorker.made).toHaveLength(1);
    const spare = FakeWorker.made[0]!;
    expect(spare.posted.map((m) => m.type)).toEqual(['warm']);
    const first = engine.start(options([]));
    expect(FakeWorker.made).toHaveLength(1);
    expect(spare.posted.map((m) => m.type)).toEqual(['warm', 'sinks']);
    engine.start(options([]));
    expect(FakeWorker.made).toHaveLength(2);
    expect(FakeWorker.made[1]!.posted[0]!.type).toBe('sinks');
    // Closing: the worker cancels its track readers and stops writing first; then it is terminated and the
    // generator tracks it wrote into stop (a frame written into a stopped one was dropped unclosed).
    first.close();
    expect(spare.posted.at(-1)!.type).toBe('close');
    expect(spare.terminated).toBe(false);
    expect(stoppedGenerators).toBe(0);
    spare.onmessage!({ data: { type: 'closed' } });
    expect(spare.terminated).toBe(true);
    expect(stoppedGenerators).toBe(2);
  });

  it('a closing worker that does not answer is terminated after a bound, and its generator tracks stop', () => {
    vi.useFakeTimers();
    try {
      const engine = createWebCodecsEngine()!;
      const pipeline = engine.start(options([]));
      const worker = FakeWorker.made[0]!;
      pipeline.close();
      vi.advanceTimersByTime(500);
      expect(worker.terminated).toBe(false);
      vi.advanceTimersByTime(1_000);
      expect(worker.terminated).toBe(true);
      expect(stoppedGenerators).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a spare worker that fails to load is dropped, not handed to a pipeline; release() ends an unused one', () => {
    const engine = createWebCodecsEngine()!;
    engine.prepare!();
    const broken = FakeWorker.made[0]!;
    broken.onerror!({ message: 'failed to fetch the worker script' });
    expect(broken.terminated).toBe(true);
    const errors: string[] = [];
    engine.start(options(errors));
    expect(FakeWorker.made).toHaveLength(2);
    expect(broken.posted.some((m) => m.type === 'sinks')).toBe(false);
    // Once a pipeline holds its worker, the pipeline hears the worker's errors.
    FakeWorker.made[1]!.onerror!({ message: 'boom' });
    expect(errors).toEqual(['media worker: boom']);
    engine.prepare!();
    const unused = FakeWorker.made[2]!;
    engine.release!();
    expect(unused.terminated).toBe(true);
    engine.start(options([]));
    expect(FakeWorker.made).toHaveLength(4);
  });
});
