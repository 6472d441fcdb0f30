// Web client end to end: a file transfer over the relay during a relay call (issue #11 item 6). Two Chromium
// users in namespace hosts, UDP blocked in Bob's host and no TURN server, the relay's link limited with
// `tc tbf` (tests/harness/app/call-file.ts has the scenario). Alice sends Bob a 16 MB file while they talk: the
// call stays active, Bob's picture keeps changing, the call's relay latency at Bob (the stats panel's P95)
// stays within 150 ms of what it was before the transfer (or under the playout buffer's own ceiling), and the
// file arrives intact. Before call media had
// a relay connection of its own, its frames waited behind the file's queues on the shared connection
// (tests/integration/relay/media-priority.test.ts measures that part alone); before session streams yielded
// to calls (core/src/session/yield-pacer.ts), the file's TCP flow kept the shared link's queue full.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useWebWorld } from '../harness/app/web-world.js';
import { fileDuringRelayCall } from '../harness/app/call-file.js';

const world = useWebWorld({
  users: ['a', 'b'],
  launch: () => ({
    media: true,
    extraArgs: ['--autoplay-policy=no-user-gesture-required', '--use-fake-device-for-media-stream=fps=30'],
  }),
  pair: ['Alice', 'Bob'],
});

describe('web client: a file over the relay during a relay call', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-e2e-call-file-'));

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('the call stays active with a moving picture and its latency near what it was before; the file arrives intact', async () => {
    const [alice, bob] = world.pair();
    const { b, relay } = world.bed().hosts;
    const m = await fileDuringRelayCall({ alice, bob, bobHost: b, relayHost: relay, dir });
    console.log(`file during a relay call: ${JSON.stringify(m)}`);
    const before = Math.max(...m.before);
    const during = Math.max(...m.during);
    expect(m.during.length).toBeGreaterThanOrEqual(4);
    // Media frames wait behind none of the file's queues, and the file keeps only a few tens of ms of the
    // shared link's queue while the call runs. bench:call's file phase measured, without the yield, 183 -> 375
    // and 186 -> 449 ms (load 7.6-8.8; the tbf dropped 3603 packets); with it +1 to +95 ms from a 'before' of
    // 315-323 (load 6.6-16, no drops). The P95 includes the audio jitter buffer, whose target jumps to its
    // ceiling (~320-345 ms here) on a CPU stall, such as the transfer's start on a busy machine, and comes
    // down slowly: from a quiet 'before' (100-184 ms) the yielding runs read 329-340 ms during the file while
    // the frames' arrival at the worker rose 1-30 ms. So: within 150 ms of before, or under 360 ms.
    // Frames stuck behind the file do not arrive to count here at all: the picture checks below catch that.
    expect(during).toBeLessThanOrEqual(Math.max(before + 150, 360));
    // The picture kept moving through the transfer: frames presented per second stay a good part of the rate
    // before (both browsers share two busy cores), and many picture samples (200 ms apart, or more on a busy
    // page) show a new picture. Measured here at load ~13: with the media lane 0.4× the fps before and 57 % of
    // samples changed; with media on the file's connection 0.025× and 6 % (the video froze for the transfer).
    const fps = (l: typeof m.pictures): number => (l.frames * 1000) / l.ms;
    expect(fps(m.pictures)).toBeGreaterThan(0.2 * fps(m.picturesBefore));
    expect(m.pictures.changes).toBeGreaterThanOrEqual(0.25 * (m.pictures.samples - 1));
    expect(m.phases).toEqual(['active', 'active']);
    expect(m.receivedHash).toBe(m.sentHash);
    expect(alice.unexpectedProblems()).toEqual([]);
    expect(bob.unexpectedProblems()).toEqual([]);
  }, 300_000);
});
