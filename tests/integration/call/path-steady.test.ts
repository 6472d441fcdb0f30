// A healthy direct call on a loaded machine never moves to the relay by itself. The path switch reads a stall
// of direct RTP (no packet for stallMs: core/src/call/path-switch.ts) as a cut path; a threshold too short for
// a busy machine would move healthy calls back and forth. Two Chromium users in the web client (fake camera
// and microphone) in namespace hosts, the relay in a third; the machine is loaded with busy threads of this
// process (bounded in time) on top of whatever else runs.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useWebWorld } from '../../harness/app/web-world.js';
import { callDialog, hangUpLeftoverCall, placeVideoCall } from '../../harness/app/calls.js';
import type { AppUser } from '../../harness/app/app.js';

const world = useWebWorld({
  users: ['a', 'b'],
  launch: () => ({
    media: true,
    extraArgs: ['--autoplay-policy=no-user-gesture-required', '--use-fake-device-for-media-stream=fps=30'],
  }),
  pair: ['Alice', 'Bob'],
});

/** How long the call is watched under load. */
const WATCH_MS = 20_000;

/** Busy threads (one per core) spinning until `ms` have passed; resolves when all have stopped. */
function loadMachine(ms: number): Promise<void> {
  const threads = Array.from(
    { length: availableParallelism() },
    () =>
      new Worker(
        `const end = Date.now() + ${ms}; let x = 0; while (Date.now() < end) { for (let i = 0; i < 1e5; i++) x += i; }`,
        { eval: true },
      ),
  );
  return Promise.all(threads.map((t) => new Promise<void>((resolve) => t.once('exit', () => resolve())))).then(
    () => undefined,
  );
}

/**
 * Watches the call view in a page: every change of the remote <video>'s stream (a move between paths swaps
 * it) and every path the call view names, sampled every 20 ms (a move to the relay lasts at least the 1.5 s
 * direct must flow again before the move back).
 */
async function watchPath(user: AppUser): Promise<void> {
  await user.page.evaluate(`(() => {
    const video = document.querySelector('[data-testid="remote-video"]');
    const seen = (window.__pathWatch = { streamChanges: 0, paths: [], frames: 0 });
    let stream = video.srcObject;
    const count = () => { seen.frames++; video.requestVideoFrameCallback(count); };
    video.requestVideoFrameCallback(count);
    window.__pathWatchTimer = setInterval(() => {
      if (video.srcObject !== stream) { seen.streamChanges++; stream = video.srcObject; }
      const path = document.querySelector('[data-testid="media-path"]')?.getAttribute('data-path') ?? '';
      if (seen.paths.at(-1) !== path) seen.paths.push(path);
    }, 20);
  })()`);
}

async function pathWatched(user: AppUser): Promise<{ streamChanges: number; paths: string[]; frames: number }> {
  return (await user.page.evaluate(
    `(() => { clearInterval(window.__pathWatchTimer); return window.__pathWatch; })()`,
  )) as {
    streamChanges: number;
    paths: string[];
    frames: number;
  };
}

describe('a direct call on a loaded machine', () => {
  let alice: AppUser;
  let bob: AppUser;

  beforeAll(() => {
    [alice, bob] = world.pair();
  });

  afterEach(async () => {
    await hangUpLeftoverCall(alice, bob, { waitClosed: true });
  });

  it('stays on direct: busy cores do not read as a cut path, no move to the relay and back', async () => {
    await alice.openChat('Bob');
    await placeVideoCall(alice, bob);
    for (const user of [alice, bob]) {
      await expect
        .poll(() => user.page.getByTestId('media-path').getAttribute('data-path'), { timeout: 30_000 })
        .toBe('direct');
      await expect
        .poll(
          () => user.page.locator('[data-testid="remote-video"]').evaluate((el) => (el as HTMLVideoElement).videoWidth),
          { timeout: 30_000 },
        )
        .toBeGreaterThan(0);
    }
    await Promise.all([watchPath(alice), watchPath(bob)]);
    await loadMachine(WATCH_MS);
    for (const user of [alice, bob]) {
      const seen = await pathWatched(user);
      expect(seen, `${user.name}: ${JSON.stringify(seen)}`).toMatchObject({ streamChanges: 0, paths: ['direct'] });
      // The call was alive all along: its picture kept coming (even a starved compositor presents some).
      expect(seen.frames).toBeGreaterThan(10);
    }
    expect(await callDialog(alice, 'Bob').getAttribute('data-phase')).toBe('active');
    await callDialog(alice, 'Bob').getByTestId('hang-up').click();
    await callDialog(bob, 'Alice').waitFor({ state: 'hidden', timeout: 20_000 });
  });
});
