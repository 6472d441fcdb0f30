// Web client end to end: a video call whose direct media cannot connect (UDP blocked in one host, no TURN
// server) carries its media over the relay (WebCodecs frames in the call's own end-to-end encrypted relay
// channel) instead of failing. Two Chromium users with fake camera and microphone, each in its own
// namespace host, the relay in a third. Driven through the UI.
import type { Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useWebWorld } from '../harness/app/web-world.js';
import { callDialog, hangUpLeftoverCall, placeVideoCall } from '../harness/app/calls.js';
import { AppUser, screenshot } from '../harness/app/app.js';

// The fake camera runs at 20 fps unless told otherwise (the later switch value wins).
const world = useWebWorld({
  users: ['a', 'b'],
  launch: () => ({
    media: true,
    extraArgs: ['--autoplay-policy=no-user-gesture-required', '--use-fake-device-for-media-stream=fps=30'],
  }),
  pair: ['Alice', 'Bob'],
});
const bed = world.bed;

interface RemoteMedia {
  width: number;
  height: number;
  /** Frames the <video> presented in the window, and how many distinct pictures were sampled. */
  frames: number;
  distinctPictures: number;
  pictures: number;
  windowMs: number;
  /** Audio frames (samples per channel) read from the remote audio track in the window. */
  audioSamples: number;
}

/**
 * What the remote <video> shows over a measurement window: presented frames (requestVideoFrameCallback),
 * hashes of the picture drawn to a canvas every 200 ms, and the samples of the remote audio track (read
 * through a MediaStreamTrackProcessor on a clone, so playback is untouched).
 */
async function remoteMedia(page: Page, windowMs: number): Promise<RemoteMedia> {
  return page.locator('[data-testid="remote-video"]').evaluate(async (el, windowMs) => {
    const video = el as HTMLVideoElement;
    const stream = video.srcObject as MediaStream | null;
    let frames = 0;
    let counting = true;
    const count = (): void => {
      if (!counting) return;
      frames++;
      video.requestVideoFrameCallback(count);
    };
    video.requestVideoFrameCallback(count);
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 48;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const hashes = new Set<string>();
    let pictures = 0;
    const sample = async (): Promise<void> => {
      ctx.drawImage(video, 0, 0, 64, 48);
      const digest = await crypto.subtle.digest('SHA-256', ctx.getImageData(0, 0, 64, 48).data);
      hashes.add(btoa(String.fromCharCode(...new Uint8Array(digest))));
      pictures++;
    };
    let audioSamples = 0;
    const audioTrack = stream?.getAudioTracks()[0];
    const Processor = (
      globalThis as unknown as {
        MediaStreamTrackProcessor: new (i: { track: MediaStreamTrack }) => { readable: ReadableStream<AudioData> };
      }
    ).MediaStreamTrackProcessor;
    const clone = audioTrack?.clone();
    const reader = clone ? new Processor({ track: clone }).readable.getReader() : null;
    const readAudio = (async () => {
      if (!reader) return;
      for (;;) {
        const r = await reader.read();
        if (r.done) return;
        audioSamples += r.value.numberOfFrames;
        r.value.close();
      }
    })();
    const started = performance.now();
    // A measurement window, not a synchronisation: pictures sampled every 200 ms within it.
    while (performance.now() - started < windowMs) {
      await sample();
      await new Promise((r) => setTimeout(r, 200));
    }
    const elapsed = performance.now() - started;
    counting = false;
    await reader?.cancel();
    clone?.stop();
    await readAudio.catch(() => undefined);
    return {
      width: video.videoWidth,
      height: video.videoHeight,
      frames,
      distinctPictures: hashes.size,
      pictures,
      windowMs: elapsed,
      audioSamples,
    };
  }, windowMs);
}

/**
 * The longest pause of the remote picture the move to the relay may cause (issue 11 says "within 2 s"). Here
 * 413–486 ms at load 3–8 (the block comes within direct's first 2 s, whose stall threshold is the longest);
 * bench:call's switchGapMs 325–362 ms at load 6–13.
 */
const SWITCH_GAP_MS = 1_000;

/** Records when the remote <video> presents a frame, re-armed when its stream changes (a move swaps it). */
async function watchPictures(page: Page): Promise<void> {
  // A string, so tsx's name-keeping helper (__name) does not end up in the page.
  await page.evaluate(`(() => {
    const v = document.querySelector('[data-testid="remote-video"]');
    const frames = (window.__pictureTimes = []);
    let armedFor = null;
    const arm = () => {
      if (v.srcObject === armedFor) return;
      armedFor = v.srcObject;
      const cb = () => { frames.push(performance.now()); if (v.srcObject === armedFor) v.requestVideoFrameCallback(cb); };
      v.requestVideoFrameCallback(cb);
    };
    arm();
    window.__pictureArm = setInterval(arm, 20);
  })()`);
}

/**
 * Once the remote <video> presented a frame after now: the longest pause between presented frames since
 * watchPictures (ms), and stops watching.
 */
async function longestPicturePause(page: Page): Promise<number> {
  const now = (await page.evaluate('performance.now()')) as number;
  await expect
    .poll(() => page.evaluate('window.__pictureTimes.at(-1) ?? 0') as Promise<number>, { timeout: 10_000 })
    .toBeGreaterThan(now);
  const times = (await page.evaluate(
    `(() => { clearInterval(window.__pictureArm); return window.__pictureTimes; })()`,
  )) as number[];
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i]! - times[i - 1]!);
  return Math.round(longest);
}

/** The relay audio playout counters in the stats panel (cumulative ms) and where the audio plays from. */
async function audioPlayout(page: Page): Promise<{ played: number; underrun: number; route: string | null }> {
  const el = page.locator('[data-stat="latency"]');
  return {
    played: Number((await el.getAttribute('data-audio-played-ms')) ?? 0),
    underrun: Number((await el.getAttribute('data-audio-underrun-ms')) ?? 0),
    route: await el.getAttribute('data-audio-route'),
  };
}

/**
 * AES-GCM encrypt/decrypt calls the window's WebCrypto has made since the first call of this (which installs
 * the counter; the app calls crypto.subtle at each use, so it sees all later ones).
 */
async function windowAesGcmOps(page: Page): Promise<number> {
  return page.evaluate(() => {
    const w = window as unknown as { __aesGcmOps?: number };
    if (w.__aesGcmOps === undefined) {
      w.__aesGcmOps = 0;
      const subtle = crypto.subtle as unknown as Record<string, (alg: unknown, ...rest: unknown[]) => unknown>;
      for (const op of ['encrypt', 'decrypt']) {
        const original = subtle[op]!.bind(crypto.subtle);
        subtle[op] = (alg: unknown, ...rest: unknown[]) => {
          if ((alg as { name?: string } | null)?.name === 'AES-GCM') w.__aesGcmOps!++;
          return original(alg, ...rest);
        };
      }
    }
    return w.__aesGcmOps;
  });
}

/**
 * Records every RTCPeerConnection the page makes from now on (window.__pcs), so the test can read the relay
 * audio's player, the echo canceller's local loopback receiver (aec-loopback.ts), from its own getStats. The
 * app looks the constructor up at each use, so a subclass installed now sees every later connection.
 */
async function recordPeerConnections(page: Page): Promise<void> {
  // A string, so the test transform's helpers do not end up in the page.
  await page.evaluate(`(() => {
    if (window.__pcs) return;
    window.__pcs = [];
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Native {
      constructor(...args) { super(...args); window.__pcs.push(this); }
    };
  })()`);
}

/**
 * The playing audio receiver's jitter buffer since it started (the connected one with the most samples out):
 * its average delay and its own average target (NetEq's), ms, or null.
 */
async function audioJitterBuffer(page: Page): Promise<{ delayMs: number; targetMs: number; s: number } | null> {
  return (await page.evaluate(`(async () => {
    let best = null;
    for (const pc of window.__pcs ?? []) {
      if (pc.connectionState !== 'connected') continue;
      for (const s of (await pc.getStats()).values()) {
        if (s.type !== 'inbound-rtp' || s.kind !== 'audio' || !s.jitterBufferEmittedCount) continue;
        if (best && s.totalSamplesReceived <= best.samples) continue;
        best = {
          samples: s.totalSamplesReceived,
          delayMs: Math.round((s.jitterBufferDelay * 1000) / s.jitterBufferEmittedCount),
          targetMs: Math.round((s.jitterBufferTargetDelay * 1000) / s.jitterBufferEmittedCount),
          s: Math.round(s.totalSamplesReceived / 48000),
        };
      }
    }
    return best;
  })()`)) as { delayMs: number; targetMs: number; s: number } | null;
}

/** The stats panel's stall meters (gap.*, hop.*: ms p50/p95 of the longest pause or wait per 500 ms), or null. */
async function stallMeters(page: Page): Promise<Record<string, unknown> | null> {
  const stages = await page.locator('[data-stat="latency"]').getAttribute('data-stages');
  if (!stages) return null;
  return Object.fromEntries(
    Object.entries(JSON.parse(stages) as Record<string, unknown>).filter(
      ([k]) => k.startsWith('gap.') || k.startsWith('hop.'),
    ),
  );
}

/** Playout over which relay audio underruns are measured after warm-up (ms, each side). */
const UNDERRUN_WINDOW_MS = 12_000;

/** The frame rate in the stats panel's video line ("640×360 @ 30 fps · VP8"), or 0. */
function decodedFps(text: string | null): number {
  const m = /@ (\d+) fps/.exec(text ?? '');
  return m ? Number(m[1]) : 0;
}

describe('web client: calls over the relay', () => {
  let alice: AppUser;
  let bob: AppUser;

  beforeAll(() => {
    [alice, bob] = world.pair();
  });

  // A test that failed mid-call leaves its call open; hang it up so the next test (or the retry) starts clean.
  afterEach(async () => {
    await hangUpLeftoverCall(alice, bob, { waitClosed: true });
  });

  it('with UDP blocked in one host and no TURN server, the call is active over the relay: moving picture ≥ 320 wide at ≥ 20 fps and decoded audio both ways; mute and camera-off reach the other side', async () => {
    const { b } = bed().hosts;
    await b.blockUdp();
    try {
      await alice.openChat('Bob');
      await Promise.all([recordPeerConnections(alice.page), recordPeerConnections(bob.page)]);
      const { atCaller: atAlice, atCallee: atBob } = await placeVideoCall(alice, bob);

      for (const user of [alice, bob]) {
        // Warm-up: the first key frame decoded and the picture at full size.
        await expect
          .poll(async () => (await remoteMedia(user.page, 400)).width, { timeout: 20_000 })
          .toBeGreaterThanOrEqual(320);
        const m = await remoteMedia(user.page, 3_000);
        const audioRate = (m.audioSamples * 1000) / m.windowMs;
        expect(m.width).toBeGreaterThanOrEqual(320);
        expect(m.height).toBeGreaterThan(0);
        // Presented frames depend on the compositor (starved on a loaded machine); the decoded rate is below.
        expect(m.frames, JSON.stringify(m)).toBeGreaterThan(5);
        // The fake camera's picture moves: the sampled pictures differ (not a frozen frame).
        expect(m.distinctPictures).toBeGreaterThan(5);
        // Audio reaches the played track (its continuity is measured at the playout below: this reader, a track
        // processor in the page, drops data when a loaded machine delays it).
        expect(audioRate).toBeGreaterThan(24_000);
      }
      await screenshot(alice.page, 'call-relay-active');

      // The stats panel: path, and the decoded frame rate (≥ 20 fps after warm-up) on both sides.
      for (const [user, peer] of [
        [alice, 'Bob'],
        [bob, 'Alice'],
      ] as const) {
        // The panel stays open from call to call once opened (a failed first attempt leaves it open for the
        // retry, whose click would shut it): open it only if shut.
        const statsButton = callDialog(user, peer).getByRole('button', { name: 'Statistics' });
        if ((await statsButton.getAttribute('aria-pressed')) !== 'true') await statsButton.click();
        await expect
          .poll(() => user.page.locator('[data-stat="path"]').textContent(), { timeout: 15_000 })
          .toContain('relay');
        await expect.poll(() => user.page.locator('[data-stat="in"]').textContent(), { timeout: 15_000 }).toMatch(/\d/);
        await expect
          .poll(async () => decodedFps(await user.page.locator('[data-stat="video"]').textContent()), {
            timeout: 15_000,
          })
          .toBeGreaterThanOrEqual(20);
        // The audio plays out of a local peer connection, whose output the echo canceller hears.
        await expect.poll(async () => (await audioPlayout(user.page)).played, { timeout: 15_000 }).toBeGreaterThan(0);
        expect((await audioPlayout(user.page)).route).toBe('peer-connection');
      }
      // Audio underruns after warm-up (the call has been up for 5+ s by now), over 12 s of playout on both sides
      // at once, read from the receiver that plays it (the echo canceller's loopback: samples it concealed for
      // audio that came late or not at all). Its jitter buffer is the audio's only one: the worker hands audio
      // on as decoded. 12 s, not 4: a single stall of 20–330 ms was 0.5–8 % of a 4 s window.
      // Issue #11 asks < 1 %. Session 7 read 0–2.27 % per side at load 6.5–14 (a spare media worker loaded
      // during relay calls then; 74d1456 loads it only once direct connects). Session 8, main at 7d8d17c, runs
      // under the CPU lock at load 3–11 (two of them with 3 and 6 busy loops beside): 0/0, 0.05/0, 0/0,
      // 0.11/0.35, 0/0, 0.55/0.55, 0.12/0.12 % (Alice/Bob). A failure prints the stall meters (gap.*: the longest pause per 500 ms where
      // records leave the sender, reach our lane socket, reach our worker) to tell where audio waited.
      const users = [alice, bob];
      const playout = () => Promise.all(users.map((u) => audioPlayout(u.page)));
      const before = await playout();
      await expect
        .poll(async () => Math.min(...(await playout()).map((a, i) => a.played - before[i]!.played)), {
          timeout: 30_000,
        })
        .toBeGreaterThanOrEqual(UNDERRUN_WINDOW_MS);
      const after = await playout();
      const underruns = users.map((_, i) => {
        const played = after[i]!.played - before[i]!.played;
        const underrun = after[i]!.underrun - before[i]!.underrun;
        return Number((underrun / (played + underrun)).toFixed(4));
      });
      const gaps = await Promise.all(users.map((u) => stallMeters(u.page)));
      console.log(
        `relay audio underruns after warm-up (Alice, Bob): ${JSON.stringify({ underruns, before, after, gaps })}`,
      );
      for (const share of underruns) expect(share, JSON.stringify({ before, after, gaps })).toBeLessThan(0.01);
      for (const user of users) {
        // Its jitter buffer (NetEq) has held about what it aimed for since it started, not the start-up
        // backlog on top (200–490 ms against a target of 80–140 for the first 3–7 s before the worker dropped
        // it: handed on at once, or the contact's audio sent faster than real time at the start). Without
        // that this read 178 ms over target; with it −40 to +65 in bench:call traces at load 8–17. An average
        // since the receiver started: read ~20 s in, after the window above, as it was before that window.
        const jb = await audioJitterBuffer(user.page);
        expect(jb, 'the loopback receiver reports its jitter buffer').not.toBeNull();
        expect(jb!.delayMs - jb!.targetMs, JSON.stringify(jb)).toBeLessThan(100);
      }
      await screenshot(alice.page, 'call-relay-stats');
      // The call view names the path and shows a quality indicator.
      for (const user of [alice, bob]) {
        await expect
          .poll(() => user.page.getByTestId('media-path').getAttribute('data-path'), { timeout: 15_000 })
          .toBe('relay');
        expect(await user.page.getByTestId('media-path').textContent()).toContain('relay');
        await expect
          .poll(() => user.page.getByTestId('call-quality').getAttribute('data-quality'), { timeout: 15_000 })
          .toMatch(/^(good|fair|poor)$/);
      }

      await atAlice.getByTestId('toggle-mute').click();
      await bob.page.getByTestId('remote-muted').waitFor({ timeout: 15_000 });
      await atAlice.getByTestId('toggle-camera').click();
      await bob.page.getByTestId('remote-camera-off').waitFor({ timeout: 15_000 });
      await atAlice.getByTestId('toggle-camera').click();
      await bob.page.getByTestId('remote-camera-off').waitFor({ state: 'hidden', timeout: 15_000 });
      // The picture comes back after camera-off (a key frame on request or the next periodic one).
      await expect
        .poll(async () => (await remoteMedia(bob.page, 1_000)).distinctPictures, { timeout: 20_000 })
        .toBeGreaterThan(2);

      await atAlice.getByTestId('hang-up').click();
      await atBob.and(bob.page.locator('[data-phase="ended"]')).waitFor({ timeout: 15_000 });
      expect(alice.unexpectedProblems()).toEqual([]);
      expect(bob.unexpectedProblems()).toEqual([]);
    } finally {
      await b.unblock();
    }
  });

  it('relay media is sealed and opened in the media worker, off the window: no AES-GCM per frame in the window, and a window blocked for 2 s does not delay its arrival', async () => {
    const { b } = bed().hosts;
    await callDialog(alice, 'Bob').waitFor({ state: 'hidden', timeout: 15_000 });
    await callDialog(bob, 'Alice').waitFor({ state: 'hidden', timeout: 15_000 });
    await b.blockUdp();
    try {
      const { atCaller: atAlice, atCallee: atBob } = await placeVideoCall(alice, bob);
      for (const user of [alice, bob]) {
        await expect
          .poll(async () => (await remoteMedia(user.page, 400)).width, { timeout: 20_000 })
          .toBeGreaterThanOrEqual(320);
        // Counts the window's AES-GCM operations from now on (the worker has a crypto of its own).
        const before = await windowAesGcmOps(user.page);
        const m = await remoteMedia(user.page, 3_000);
        const ops = (await windowAesGcmOps(user.page)) - before;
        // Media flowed both ways meanwhile: ~50 audio and up to 30 video records a second each way, which
        // the window sealed and opened one by one before the record layer moved to the worker.
        expect(m.distinctPictures, JSON.stringify(m)).toBeGreaterThan(5);
        expect((m.audioSamples * 1000) / m.windowMs).toBeGreaterThan(24_000);
        expect(ops, JSON.stringify(m)).toBeLessThan(20);
      }
      // The window's main thread busy for 2 s (a long layout, a file's work): the records come from the media
      // connection's socket worker straight to the media worker, so they arrive on time meanwhile. Through
      // the window they would wait up to 2 s, and most of the last 2.5 s of audio arrival times would show it.
      // The panel stays open from call to call once opened (an earlier test may have): open it only if shut.
      const statsButton = callDialog(bob, 'Alice').getByRole('button', { name: 'Statistics' });
      if ((await statsButton.getAttribute('aria-pressed')) !== 'true') await statsButton.click();
      const stages = bob.page.locator('[data-stat="latency"]');
      await expect.poll(() => stages.getAttribute('data-stages'), { timeout: 15_000 }).toContain('audio.arrived');
      const beforeBlock = await stages.getAttribute('data-stages');
      await bob.page.evaluate(() => {
        for (const end = performance.now() + 2_000; performance.now() < end;);
      });
      await expect.poll(() => stages.getAttribute('data-stages'), { timeout: 5_000 }).not.toBe(beforeBlock);
      const arrived = (JSON.parse((await stages.getAttribute('data-stages'))!) as Record<string, { p95: number }>)[
        'audio.arrived'
      ]!;
      expect(arrived.p95, JSON.stringify(arrived)).toBeLessThan(800);
      await atAlice.getByTestId('hang-up').click();
      await atBob.and(bob.page.locator('[data-phase="ended"]')).waitFor({ timeout: 15_000 });
    } finally {
      await b.unblock();
    }
  });

  it("with everything but the relay's TCP port blocked in one host, the call is active over the relay with picture and sound both ways", async () => {
    const { b, relay: relayHost } = bed().hosts;
    // The previous call's view closes by itself.
    await callDialog(alice, 'Bob').waitFor({ state: 'hidden', timeout: 15_000 });
    await callDialog(bob, 'Alice').waitFor({ state: 'hidden', timeout: 15_000 });
    await b.blockAllExcept({ tcpPorts: [world.relay.port], host: relayHost });
    try {
      const { atCaller: atAlice, atCallee: atBob } = await placeVideoCall(alice, bob);
      for (const user of [alice, bob]) {
        await expect
          .poll(async () => (await remoteMedia(user.page, 400)).width, { timeout: 20_000 })
          .toBeGreaterThanOrEqual(320);
        const m = await remoteMedia(user.page, 2_000);
        expect(m.distinctPictures, JSON.stringify(m)).toBeGreaterThan(3);
        expect((m.audioSamples * 1000) / m.windowMs).toBeGreaterThan(24_000);
        await expect
          .poll(() => user.page.getByTestId('media-path').getAttribute('data-path'), { timeout: 15_000 })
          .toBe('relay');
      }
      await atAlice.getByTestId('hang-up').click();
      await atBob.and(bob.page.locator('[data-phase="ended"]')).waitFor({ timeout: 15_000 });
    } finally {
      await b.unblock();
    }
  });

  it('mid-call: UDP blocked during a direct call moves the media to the relay; unblocked, it moves back to direct; the call never drops', async () => {
    const { b } = bed().hosts;
    await callDialog(alice, 'Bob').waitFor({ state: 'hidden', timeout: 15_000 });
    await callDialog(bob, 'Alice').waitFor({ state: 'hidden', timeout: 15_000 });
    const { atCaller: atAlice, atCallee: atBob } = await placeVideoCall(alice, bob, { active: false });
    const phases: string[] = [];
    const watchPhase = async (): Promise<void> => {
      for (const at of [atAlice, atBob]) phases.push((await at.getAttribute('data-phase')) ?? '');
    };
    for (const user of [alice, bob]) {
      await expect
        .poll(() => user.page.getByTestId('media-path').getAttribute('data-path'), { timeout: 30_000 })
        .toMatch(/^(direct|turn)$/);
    }
    await Promise.all([watchPictures(alice.page), watchPictures(bob.page)]);
    await b.blockUdp();
    try {
      for (const user of [alice, bob]) {
        await expect
          .poll(() => user.page.getByTestId('media-path').getAttribute('data-path'), { timeout: 30_000 })
          .toBe('relay');
      }
      // The picture went on: its longest pause, across the move, stayed short (no long freeze or black).
      for (const user of [alice, bob]) {
        const pause = await longestPicturePause(user.page);
        expect(pause, `${user.name}: the longest pause of the remote picture`).toBeLessThanOrEqual(SWITCH_GAP_MS);
      }
      for (const user of [alice, bob]) {
        await expect
          .poll(async () => (await remoteMedia(user.page, 1_000)).distinctPictures, { timeout: 20_000 })
          .toBeGreaterThan(2);
      }
      await watchPhase();
    } finally {
      await b.unblock();
    }
    // Direct works again: both sides move back to it (the caller leads once both receive direct media).
    for (const user of [alice, bob]) {
      await expect
        .poll(() => user.page.getByTestId('media-path').getAttribute('data-path'), { timeout: 30_000 })
        .toMatch(/^(direct|turn)$/);
    }
    for (const user of [alice, bob]) {
      const m = await remoteMedia(user.page, 2_000);
      expect(m.width, JSON.stringify(m)).toBeGreaterThanOrEqual(320);
      expect(m.distinctPictures, JSON.stringify(m)).toBeGreaterThan(3);
      expect((m.audioSamples * 1000) / m.windowMs).toBeGreaterThan(24_000);
      // The picture shown is the direct stream's: the relay's generator tracks are gone from the view.
      const relayTracks = await user.page
        .locator('[data-testid="remote-video"]')
        .evaluate(
          (el) =>
            ((el as HTMLVideoElement).srcObject as MediaStream)
              .getTracks()
              .filter((t) => t.constructor.name === 'MediaStreamTrackGenerator').length,
        );
      expect(relayTracks).toBe(0);
    }
    await watchPhase();
    // Active throughout (a move may show 'reconnecting' for a moment, never an end).
    for (const phase of phases) expect(phase).toMatch(/^(active|reconnecting)$/);
    expect(await atAlice.getAttribute('data-phase')).toBe('active');
    expect(await atBob.getAttribute('data-phase')).toBe('active');
    await atAlice.getByTestId('hang-up').click();
    await atBob.and(bob.page.locator('[data-phase="ended"]')).waitFor({ timeout: 15_000 });
    expect(alice.unexpectedProblems()).toEqual([]);
    expect(bob.unexpectedProblems()).toEqual([]);
  });
});
