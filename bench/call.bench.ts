// npm run bench:call — calls in the web client, two Chromium users (fake camera at 30 fps and microphone) in
// network-namespace hosts, the relay serving the client in a third. One run measures:
//   direct: accept → first remote frame, decoded fps, capture → presented latency (requestVideoFrameCallback's
//     captureTime), audio continuity at the receiver (its own getStats: samples out less concealed);
//   switching (a direct call, UDP blocked then unblocked in Bob's host): the longest pause of Bob's picture at
//     Alice when the media moves to the relay (switchGapMs) and back to direct (switchBackGapMs);
//     BENCH_CALL_ONLY=switch runs this phase alone;
//   BENCH_CALL_ONLY=file: only the file-during-a-relay-call phase (bench/call-file-phase.ts), with its trace
//     (stage times during the file, the relay link's drops, TCP retransmissions) under BENCH_CALL_TRACE=1;
//   BENCH_CALL_ONLY=first-frame: only accept → first remote frame, relay and direct, BENCH_CALL_ROUNDS (3) rounds;
//   relay (UDP blocked in Bob's host, no TURN): accept → first remote frame, capture → display latency
//     p50/p95 (capture time stamped in each frame's header, read from the stats panel's latency line, which
//     covers the last ~120 frames: windows sampled every 2 s, median of medians and worst p95 reported),
//     decoded fps, audio continuity (the played receiver's statistics: the local loopback's, samples out less
//     concealed ÷ 48,000/s), CPU, then the latency again ~15 s into the call (relaySteady*: the audio jitter
//     buffer video follows settles by then); BENCH_CALL_ONLY=relay runs this and the throttled phase alone;
//     BENCH_CALL_PRE=direct|relay places and hangs up one such call first in the same pages (the full run's
//     relay call also comes after earlier calls), BENCH_CALL_PRE=direct-reload[-a|-b] then reloads both
//     pages (or only Alice's / Bob's) before the relay call, BENCH_CALL_PRE_WAIT_MS (3000) after it;
//   BENCH_CALL_CAMERA=WxH pins the fake camera to that size (default: what the app asks for, 1280×720);
//   throttled: the same relay call with Bob's link limited to 300 kbit/s (tc tbf on his veth; latency of
//     Bob's media at Alice).
// Prints a table, then one JSON object as the last line. Run under `flock /tmp/parley-cpu.lock`.
import { loadavg } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { assertTestbedAvailable, createTestbed, type Testbed } from '../tests/testbed/index.js';
import { AppUser, buildRenderer, introducedPair, startWebRelay } from '../tests/harness/app/app.js';
import { fileDuringCallPhase, type FileDuringCallFigures } from './call-file-phase.js';

const WINDOW_MS = Number(process.env.BENCH_CALL_WINDOW_MS ?? 10_000);

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** CPU ms (user + system) of every Chromium process on the machine (ours: the bench runs alone under the lock). */
function chromiumCpuMs(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chromium')) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      /* gone */
    }
  }
  return total;
}

function dialog(user: AppUser, peer: string) {
  return user.page.getByRole('dialog', { name: `Call with ${peer}` });
}

/** Alice calls Bob, Bob accepts with video; resolves with accept → first remote frame on both sides (ms). */
async function placeCall(alice: AppUser, bob: AppUser): Promise<number> {
  await alice.page.getByRole('button', { name: 'Video call with Bob' }).click();
  const incoming = bob.page.getByRole('dialog', { name: 'Alice is calling' });
  await incoming.waitFor({ timeout: 30_000 });
  const t0 = Date.now();
  await incoming.getByRole('button', { name: 'Accept with video' }).click();
  const firstFrame = (page: Page) =>
    page.waitForFunction(
      () => ((document.querySelector('[data-testid="remote-video"]') as HTMLVideoElement | null)?.videoWidth ?? 0) > 0,
      undefined,
      { timeout: 30_000, polling: 20 },
    );
  await Promise.all([firstFrame(alice.page), firstFrame(bob.page)]);
  return Date.now() - t0;
}

async function hangUp(alice: AppUser, bob: AppUser): Promise<void> {
  await dialog(alice, 'Bob').getByTestId('hang-up').click();
  await Promise.all([
    dialog(alice, 'Bob').waitFor({ state: 'hidden', timeout: 30_000 }),
    dialog(bob, 'Alice').waitFor({ state: 'hidden', timeout: 30_000 }),
  ]);
}

interface Sample {
  path: string;
  fps: number | null;
  /** The remote picture's size ("640×480"). */
  size: string | null;
  p50: number | null;
  p95: number | null;
  /** Relay only: Alice's own send bitrate target, late frames dropped, playout delay. */
  targetKbps: number | null;
  lateFrames: number | null;
  playoutMs: number | null;
  /** Relay only: cumulative audio played / underrun ms at Alice, and capture → stage times. */
  playedMs: number | null;
  underrunMs: number | null;
  stages: Record<string, { p50: number; p95: number }> | null;
}

/** The stats panel every 2 s for `ms` (opened first). */
async function sampleStats(user: AppUser, peer: string, ms: number): Promise<Sample[]> {
  const stats = user.page.getByTestId('call-stats');
  if (!(await stats.isVisible())) await dialog(user, peer).getByRole('button', { name: 'Statistics' }).click();
  await stats.waitFor();
  const out: Sample[] = [];
  for (const end = Date.now() + ms; Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 2_000)); // a sampling period, not a synchronisation
    // A string, so tsx's name-keeping helper (__name) does not end up in the page.
    out.push(
      (await user.page.evaluate(`(() => {
        const q = (s) => document.querySelector('[data-stat="' + s + '"]');
        const num = (v) => (v ? Number(v) : null);
        const fps = /@ (\\d+(?:\\.\\d+)?) fps/.exec(q('video')?.textContent ?? '');
        return {
          path: q('path')?.textContent?.trim() ?? '',
          fps: fps ? Number(fps[1]) : null,
          size: /(\\d+×\\d+)/.exec(q('video')?.textContent ?? '')?.[1] ?? null,
          p50: num(q('latency')?.getAttribute('data-p50')),
          p95: num(q('latency')?.getAttribute('data-p95')),
          targetKbps: num(q('latency')?.getAttribute('data-target-kbps')),
          lateFrames: num(q('latency')?.getAttribute('data-late-frames')),
          playoutMs: num(q('latency')?.getAttribute('data-playout-ms')),
          playedMs: num(q('latency')?.getAttribute('data-audio-played-ms')),
          underrunMs: num(q('latency')?.getAttribute('data-audio-underrun-ms')),
          stages: q('latency')?.getAttribute('data-stages') ? JSON.parse(q('latency').getAttribute('data-stages')) : null,
        };
      })()`)) as Sample,
    );
  }
  return out;
}

/**
 * Records every RTCPeerConnection the page makes from now on (window.__pcs), so the bench can read the audio
 * receivers' own statistics: the direct call's, and the relay call's local loopback (aec-loopback.ts), which
 * is what the speaker plays. The app looks the constructor up at each call, so a subclass installed after
 * load sees every later connection.
 */
async function recordPeerConnections(page: Page): Promise<void> {
  // A string, so tsx's name-keeping helper (__name) does not end up in the page.
  await page.evaluate(`(() => {
    if (window.__pcs) return;
    window.__pcs = [];
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Native {
      constructor(...args) { super(...args); window.__pcs.push(this); }
    };
  })()`);
}

/** BENCH_CALL_CAMERA=WxH: every camera the page opens from now on delivers exactly that size (a VGA webcam). */
async function pinCamera(page: Page): Promise<void> {
  const camera = /^(\d+)x(\d+)$/.exec(process.env.BENCH_CALL_CAMERA ?? '');
  if (!camera) return;
  await page.evaluate(`(() => {
    if (window.__cameraPinned) return;
    window.__cameraPinned = true;
    const md = navigator.mediaDevices;
    const gum = md.getUserMedia.bind(md);
    md.getUserMedia = (c) => gum(c && c.video ? { ...c, video: { ...(typeof c.video === 'object' ? c.video : {}),
      width: { exact: ${camera[1]} }, height: { exact: ${camera[2]} } } } : c);
  })()`);
}

/** One reading of the playing audio receiver (the connected one with the most samples out). */
interface AudioReading {
  at: number;
  samples: number;
  concealed: number;
  jitterBufferDelayS: number;
  emitted: number;
}

async function readAudioReceiver(page: Page): Promise<AudioReading | null> {
  return (await page.evaluate(`(async () => {
    let best = null;
    for (const pc of window.__pcs ?? []) {
      if (pc.connectionState !== 'connected') continue;
      for (const s of (await pc.getStats()).values()) {
        if (s.type !== 'inbound-rtp' || s.kind !== 'audio') continue;
        const r = {
          at: performance.now(),
          samples: s.totalSamplesReceived ?? 0,
          concealed: s.concealedSamples ?? 0,
          jitterBufferDelayS: s.jitterBufferDelay ?? 0,
          emitted: s.jitterBufferEmittedCount ?? 0,
        };
        if (!best || r.samples > best.samples) best = r;
      }
    }
    return best;
  })()`)) as AudioReading | null;
}

/** Audio at the played receiver over `ms`: samples out less concealed ÷ 48,000/s, concealed share, jitter buffer. */
async function receiverAudio(
  page: Page,
  ms: number,
): Promise<{ continuity: number | null; concealed: number | null; jitterBufferMs: number | null }> {
  const a = await readAudioReceiver(page);
  await new Promise((r) => setTimeout(r, ms)); // the measuring window
  const b = await readAudioReceiver(page);
  if (!a || !b || b.samples <= a.samples) return { continuity: null, concealed: null, jitterBufferMs: null };
  const out = b.samples - a.samples;
  const concealed = b.concealed - a.concealed;
  const emitted = b.emitted - a.emitted;
  return {
    continuity: Number(((out - concealed) / ((48_000 * (b.at - a.at)) / 1000)).toFixed(3)),
    concealed: Number((concealed / out).toFixed(4)),
    jitterBufferMs: emitted > 0 ? Math.round(((b.jitterBufferDelayS - a.jitterBufferDelayS) * 1000) / emitted) : null,
  };
}

/**
 * Capture → presentation of the remote <video>'s frames over `ms` (requestVideoFrameCallback: presentationTime −
 * captureTime; for a WebRTC track Chromium estimates the sender's capture time through RTCP, both Chromiums
 * run on this machine's clock). p50/p95, or nulls when the frames carry no capture time.
 */
async function presentedLatency(
  page: Page,
  ms: number,
): Promise<{ p50: number | null; p95: number | null; n: number }> {
  return (await page.evaluate(`new Promise((resolve) => {
    const v = document.querySelector('[data-testid="remote-video"]');
    const lat = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      lat.sort((x, y) => x - y);
      const at = (p) => (lat.length ? Math.round(lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]) : null);
      resolve({ p50: at(0.5), p95: at(0.95), n: lat.length });
    };
    const cb = (now, m) => {
      if (typeof m.captureTime === 'number') lat.push(m.presentationTime - m.captureTime);
      if (!done) v.requestVideoFrameCallback(cb);
    };
    v.requestVideoFrameCallback(cb);
    setTimeout(finish, ${ms});
  })`)) as { p50: number | null; p95: number | null; n: number };
}

/**
 * BENCH_CALL_TRACE=1: the played audio receiver's jitter buffer once a second over `ms` (delay, NetEq's target
 * and minimum over the second, interarrival jitter, samples stretched in or cut out), logged: where its delay
 * comes from and how it moves over the call.
 */
async function traceAudioReceiver(page: Page, ms: number): Promise<void> {
  const read = async () =>
    (await page.evaluate(`(async () => {
      let best = null;
      for (const pc of window.__pcs ?? []) {
        if (pc.connectionState !== 'connected') continue;
        for (const s of (await pc.getStats()).values()) {
          if (s.type !== 'inbound-rtp' || s.kind !== 'audio') continue;
          if (!best || (s.totalSamplesReceived ?? 0) > best.totalSamplesReceived) best = s;
        }
      }
      return best && { ...best, at: performance.now() };
    })()`)) as Record<string, number> | null;
  // The window's main thread: its long tasks (> 50 ms) per second.
  await page.evaluate(`(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(Math.round(e.duration)); })
      .observe({ type: 'longtask' });
  })()`);
  let prev = await read();
  const rows: string[] = [];
  for (const end = Date.now() + ms; Date.now() < end;) {
    // A sampling period, not a synchronisation: 250 ms over the first 4 s, then 1 s.
    await new Promise((r) => setTimeout(r, rows.length < 16 ? 250 : 1_000));
    const cur = await read();
    if (!cur || !prev) {
      prev = cur;
      continue;
    }
    const d = (k: string): number => (cur[k] ?? 0) - (prev![k] ?? 0);
    const emitted = d('jitterBufferEmittedCount');
    const per = (k: string): number => (emitted > 0 ? Math.round((d(k) * 1000) / emitted) : -1);
    rows.push(
      `samples ${Math.round(cur.totalSamplesReceived ?? 0)} pkts total ${cur.packetsReceived}` +
        ` cum ${Math.round(((cur.jitterBufferDelay ?? 0) * 1000) / (cur.jitterBufferEmittedCount || 1))} delay ${per('jitterBufferDelay')} target ${per('jitterBufferTargetDelay')} min ${per('jitterBufferMinimumDelay')}` +
        ` jitter ${Math.round((cur.jitter ?? 0) * 1000)} pkts ${d('packetsReceived')} conceal ${d('concealedSamples')}` +
        ` accel -${d('removedSamplesForAcceleration')} decel +${d('insertedSamplesForDeceleration')}` +
        ` long tasks ${String(await page.evaluate('window.__long.splice(0).join(",")'))}`,
    );
    prev = cur;
  }
  log(`audio receiver, 1 s steps:\n  ${rows.join('\n  ')}`);
}

/** Polls `read` every 100 ms until it returns true (bounded). */
async function until(read: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    if (await read()) return;
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Mid-call switching, measured at Alice on Bob's picture: a direct call, then UDP blocked in Bob's host until
 * the media moves to the relay, then unblocked until it moves back. Each gap is the longest pause between two
 * frames the remote <video> presented (requestVideoFrameCallback, re-armed when its stream changes) from the
 * moment of the block (unblock) on: last direct frame → first relay frame, and last relay → first direct.
 */
async function switchGaps(alice: AppUser, bob: AppUser, b: Testbed<'a' | 'b' | 'relay'>['hosts']['b']) {
  await placeCall(alice, bob);
  const path = () => alice.page.getByTestId('media-path').getAttribute('data-path');
  await until(async () => /^(direct|turn)$/.test((await path()) ?? ''), 30_000, 'a direct path');
  await new Promise((r) => setTimeout(r, 2_000)); // settle
  // A string, so tsx's name-keeping helper (__name) does not end up in the page.
  await alice.page.evaluate(`(() => {
    const v = document.querySelector('[data-testid="remote-video"]');
    const frames = (window.__switchFrames = []);
    let armedFor = null;
    const arm = () => {
      if (v.srcObject === armedFor) return;
      armedFor = v.srcObject;
      (window.__switchStreams ??= []).push(performance.now());
      const cb = () => { frames.push(performance.now()); if (v.srcObject === armedFor) v.requestVideoFrameCallback(cb); };
      v.requestVideoFrameCallback(cb);
    };
    arm();
    window.__switchArm = setInterval(arm, 20);
  })()`);
  const pageNow = async (): Promise<number> => (await alice.page.evaluate('performance.now()')) as number;
  /**
   * The longest pause between presented frames from `from` on, and where its time went (logged): the (un)block
   * → the last frame of the old path, → the view's swap to the new path's stream, → its first frame.
   */
  const gapSince = async (from: number, what: string, lookBack = 0): Promise<number | null> => {
    const frames = ((await alice.page.evaluate('window.__switchFrames')) as number[]).filter(
      (t) => t >= from - lookBack,
    );
    if (process.env.BENCH_CALL_SAMPLES === '1')
      log(`frames from ${Math.round(from)}: ${frames.map((t) => Math.round(t - from)).join(' ')}`);
    let at = 0;
    for (let i = 2; i < frames.length; i++) if (frames[i]! - frames[i - 1]! > frames[at + 1]! - frames[at]!) at = i - 1;
    if (frames.length < 2) return null;
    const streams = (await alice.page.evaluate('window.__switchStreams')) as number[];
    const swap = streams.find((t) => t >= frames[at]!);
    const ms = (t: number | undefined): string => (t === undefined ? '?' : String(Math.round(t - from)));
    log(
      `${what}: last frame of the old path +${ms(frames[at])} ms, view swapped +${ms(swap)}, first frame of the new` +
        ` path +${ms(frames[at + 1])}`,
    );
    return Math.round(frames[at + 1]! - frames[at]!);
  };
  // The pill follows stats sampled once a second: wait for a frame the new path presented, then a little more.
  const newFrameAfter = async (what: string): Promise<void> => {
    const since = await pageNow();
    await until(
      async () => ((await alice.page.evaluate('window.__switchFrames.at(-1) ?? 0')) as number) > since,
      15_000,
      what,
    );
    await new Promise((r) => setTimeout(r, 500));
  };
  const blockedAt = await pageNow();
  await b.blockUdp();
  let switchGapMs: number | null;
  try {
    await until(async () => (await path()) === 'relay', 30_000, 'the relay path');
    await newFrameAfter('a relay frame');
    switchGapMs = await gapSince(blockedAt, 'switch direct → relay (from the block)', 500);
  } finally {
    await b.unblock();
  }
  const unblockedAt = await pageNow();
  await until(async () => /^(direct|turn)$/.test((await path()) ?? ''), 60_000, 'the move back to direct');
  await newFrameAfter('a direct frame');
  const switchBackGapMs = await gapSince(unblockedAt, 'switch relay → direct (from the unblock)');
  await alice.page.evaluate('clearInterval(window.__switchArm)');
  await hangUp(alice, bob);
  return { switchGapMs, switchBackGapMs };
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const max = (xs: number[]): number | null => (xs.length === 0 ? null : Math.max(...xs));
const nums = (xs: Array<number | null>): number[] => xs.filter((x): x is number => x !== null);

/** Underrun share of the audio output between the first and last sample (silence inserted or output dry). */
function underrunShare(samples: Sample[]): number | null {
  const a = samples[0];
  const b = samples.at(-1);
  if (!a || !b || a.playedMs === null || b.playedMs === null || a.underrunMs === null || b.underrunMs === null)
    return null;
  const played = b.playedMs - a.playedMs;
  const under = b.underrunMs - a.underrunMs;
  return played + under > 0 ? Number((under / (played + under)).toFixed(4)) : null;
}

/** The stage breakdown of the last sample, one line: stage p50/p95. */
function stageLine(samples: Sample[]): string {
  const st = samples.at(-1)?.stages ?? {};
  return Object.entries(st)
    .sort((x, y) => x[1].p50 - y[1].p50)
    .map(([k, v]) => `${k} ${v.p50}/${v.p95}`)
    .join(', ');
}

async function main(): Promise<void> {
  await assertTestbedAvailable({ chromium: true });
  let tb: Testbed<'a' | 'b' | 'relay'> | null = null;
  try {
    log('building the web client…');
    await buildRenderer();
    tb = await createTestbed({ hosts: ['a', 'b', 'relay'] });
    const { a, b } = tb.hosts;
    const relay = await startWebRelay(tb.hosts.relay);
    const origin = new URL(relay.httpUrl).origin;
    const opts = {
      media: true,
      secureOrigins: [origin],
      extraArgs: ['--autoplay-policy=no-user-gesture-required', '--use-fake-device-for-media-stream=fps=30'],
    };
    const [browserA, browserB] = await Promise.all([a.launchChromium(opts), b.launchChromium(opts)]);
    const [alice, bob] = await introducedPair(browserA, browserB, relay.httpUrl, ['Alice', 'Bob']);
    await alice.openChat('Bob');
    await Promise.all([alice, bob].flatMap((u) => [pinCamera(u.page), recordPeerConnections(u.page)]));
    if (process.env.BENCH_CALL_ONLY === 'switch') {
      // Only the mid-call switching phase (BENCH_CALL_ONLY=switch).
      log('direct call, UDP blocked and unblocked mid-call (switching)…');
      process.stdout.write(`${JSON.stringify({ ...(await switchGaps(alice, bob, b)), loadavg1: loadavg()[0] })}\n`);
      await Promise.all([alice.close(), bob.close()]);
      return;
    }

    if (process.env.BENCH_CALL_ONLY === 'file') {
      log('relay call with a 16 MB file over the relay (relay link 12 Mbit/s, tc tbf)…');
      const trace = process.env.BENCH_CALL_TRACE === '1' ? log : undefined;
      const figures = await fileDuringCallPhase(alice, bob, { b, relay: tb.hosts.relay }, trace);
      process.stdout.write(`${JSON.stringify({ ...figures, loadavg1: Number(loadavg()[0]!.toFixed(2)) })}\n`);
      await Promise.all([alice.close(), bob.close()]);
      return;
    }

    if (process.env.BENCH_CALL_ONLY === 'first-frame') {
      // Only accept → first remote frame, relay (UDP blocked in Bob's host) then direct, BENCH_CALL_ROUNDS times.
      const rounds = Number(process.env.BENCH_CALL_ROUNDS ?? 3);
      const relayFirstFrameMs: number[] = [];
      const directFirstFrameMs: number[] = [];
      for (let i = 0; i < rounds; i++) {
        await b.blockUdp();
        try {
          relayFirstFrameMs.push(await placeCall(alice, bob));
          await hangUp(alice, bob);
        } finally {
          await b.unblock();
        }
        directFirstFrameMs.push(await placeCall(alice, bob));
        await hangUp(alice, bob);
      }
      process.stdout.write(
        `${JSON.stringify({ relayFirstFrameMs, directFirstFrameMs, loadavg1: Number(loadavg()[0]!.toFixed(2)) })}\n`,
      );
      await Promise.all([alice.close(), bob.close()]);
      return;
    }

    // BENCH_CALL_ONLY=relay: the relay and 300 kbit/s phases alone (direct, switching and file phases skipped).
    const relayOnly = process.env.BENCH_CALL_ONLY === 'relay';
    log('idle CPU…');
    const idle0 = chromiumCpuMs();
    await new Promise((r) => setTimeout(r, 5_000));
    const idleCpuPerS = (chromiumCpuMs() - idle0) / 5;

    let directFirstFrameMs: number | null = null;
    let directSamples: Sample[] = [];
    let directAudio: Awaited<ReturnType<typeof receiverAudio>> | null = null;
    let directPresented: Awaited<ReturnType<typeof presentedLatency>> | null = null;
    let switchGapMs: number | null = null;
    let switchBackGapMs: number | null = null;
    if (!relayOnly) {
      log('direct call…');
      directFirstFrameMs = await placeCall(alice, bob);
      directSamples = await sampleStats(alice, 'Bob', WINDOW_MS);
      [directAudio, directPresented] = await Promise.all([
        receiverAudio(alice.page, 5_000),
        presentedLatency(alice.page, 5_000),
      ]);
      await hangUp(alice, bob);

      log('direct call, UDP blocked and unblocked mid-call (switching)…');
      ({ switchGapMs, switchBackGapMs } = await switchGaps(alice, bob, b));
    }

    const pre = process.env.BENCH_CALL_PRE ?? '';
    if (relayOnly && /^(direct|relay|direct-reload(-a|-b)?)$/.test(pre)) {
      log(
        `a ${pre === 'relay' ? 'relay' : 'direct'} call first, hung up${pre.startsWith('direct-reload') ? ', then a reload' : ''}…`,
      );
      if (pre === 'relay') await b.blockUdp();
      await placeCall(alice, bob);
      await sampleStats(alice, 'Bob', 6_000);
      await hangUp(alice, bob);
      if (pre === 'relay') await b.unblock();
      if (pre.startsWith('direct-reload')) {
        const users = pre === 'direct-reload-a' ? [alice] : pre === 'direct-reload-b' ? [bob] : [alice, bob];
        await Promise.all(users.map((u) => u.reload()));
        await Promise.all(users.map((u) => u.waitRelayOnline()));
        if (users.includes(alice)) await alice.openChat('Bob');
        await Promise.all(users.flatMap((u) => [pinCamera(u.page), recordPeerConnections(u.page)]));
      }
      await new Promise((r) => setTimeout(r, Number(process.env.BENCH_CALL_PRE_WAIT_MS ?? 3_000)));
    }
    log('relay call (UDP blocked in Bob’s host)…');
    await b.blockUdp();
    const trace = process.env.BENCH_CALL_TRACE === '1' ? traceAudioReceiver(alice.page, 32_000) : null;
    const relayFirstFrameMs = await placeCall(alice, bob);
    const cpu0 = chromiumCpuMs();
    const t0 = Date.now();
    const relaySamples = await sampleStats(alice, 'Bob', WINDOW_MS);
    const cpuCores = ((chromiumCpuMs() - cpu0) / ((Date.now() - t0) / 1000) - idleCpuPerS) / 1000 / 2;
    const relayAudio = await receiverAudio(alice.page, 5_000);
    // The same call ~15 s in: the loopback receiver's jitter buffer (which video follows) starts high from the
    // call's start-up load and takes ~15 s to come down; the figures above are the first 10 s.
    const steady = await sampleStats(alice, 'Bob', WINDOW_MS);

    await trace;
    if (trace) log(`Bob's own stages ~30 s in: ${stageLine(await sampleStats(bob, 'Alice', 2_000))}`);
    log('relay call, Bob’s link limited to 300 kbit/s (tc tbf)…');
    await b.exec('tc', [
      'qdisc',
      'replace',
      'dev',
      b.iface,
      'root',
      'tbf',
      'rate',
      '300kbit',
      'burst',
      '16kb',
      'latency',
      '2s',
    ]);
    let throttled: Sample[];
    try {
      await sampleStats(alice, 'Bob', 8_000); // the controller adapts
      throttled = await sampleStats(alice, 'Bob', WINDOW_MS);
    } finally {
      await b.exec('tc', ['qdisc', 'del', 'dev', b.iface, 'root']);
    }
    await hangUp(alice, bob);
    await b.unblock();

    if (!relayOnly) log('relay call with a 16 MB file over the relay (relay link 12 Mbit/s, tc tbf)…');
    // A phase that fails is reported (null figures) rather than losing every other figure of the run.
    const noFile = {
      fileDuringCallLatencyP95Ms: null,
      fileDuringCallBaselineP95Ms: null,
      fileDuringCallMBps: null,
      fileDuringCallArrivalP50Ms: null,
      fileDuringCallArrivalBaselineP50Ms: null,
    };
    const fileDuringCall = relayOnly
      ? noFile
      : await fileDuringCallPhase(alice, bob, { b, relay: tb.hosts.relay }).catch(
          (err: unknown): FileDuringCallFigures => {
            log(`file-during-call phase failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
            return noFile;
          },
        );

    if (process.env.BENCH_CALL_SAMPLES === '1') log(JSON.stringify({ relaySamples, throttled }));
    log(`relay stages (capture → stage, ms p50/p95): ${stageLine(relaySamples)}`);
    log(`relay stages ~15 s in: ${stageLine(steady)}`);
    log(`300 kbit/s stages: ${stageLine(throttled)}`);
    const r = {
      relayFirstFrameMs,
      relayLatencyP50Ms: median(nums(relaySamples.map((s) => s.p50))),
      relayLatencyP95Ms: max(nums(relaySamples.map((s) => s.p95))),
      relaySteadyLatencyP50Ms: median(nums(steady.map((s) => s.p50))),
      relaySteadyLatencyP95Ms: max(nums(steady.map((s) => s.p95))),
      relaySteadyPlayoutMs: median(nums(steady.map((s) => s.playoutMs))),
      relayFps: median(nums(relaySamples.map((s) => s.fps))),
      relaySizes: relaySamples.map((s) => s.size).join(' '),
      relayAudioContinuity: relayAudio.continuity,
      relayAudioUnderrun: underrunShare(relaySamples),
      relayAudioConcealed: relayAudio.concealed,
      relayAudioJitterBufferMs: relayAudio.jitterBufferMs,
      relayPlayoutMs: median(nums(relaySamples.map((s) => s.playoutMs))),
      throttledLatencyP50Ms: median(nums(throttled.map((s) => s.p50))),
      throttledLatencyP95Ms: max(nums(throttled.map((s) => s.p95))),
      throttledFps: median(nums(throttled.map((s) => s.fps))),
      throttledAudioUnderrun: underrunShare(throttled),
      switchGapMs,
      switchBackGapMs,
      cpuCores: Number(cpuCores.toFixed(2)),
      directFirstFrameMs,
      directFps: median(nums(directSamples.map((s) => s.fps))),
      directLatencyP50Ms: directPresented?.p50 ?? null,
      directLatencyP95Ms: directPresented?.p95 ?? null,
      directAudioContinuity: directAudio?.continuity ?? null,
      directAudioConcealed: directAudio?.concealed ?? null,
      directAudioJitterBufferMs: directAudio?.jitterBufferMs ?? null,
      relayPath: relaySamples.at(-1)?.path ?? null,
      directPath: directSamples.at(-1)?.path ?? null,
      ...fileDuringCall,
      loadavg1: Number(loadavg()[0]!.toFixed(2)),
    };
    const rows: Array<[string, string, string]> = [
      ['measure', 'value', 'target'],
      ['relay: accept → first frame (ms)', String(r.relayFirstFrameMs), '≤ 3000'],
      ['relay: latency p50 / p95 (ms)', `${r.relayLatencyP50Ms} / ${r.relayLatencyP95Ms}`, 'p95 ≤ 150'],
      ['relay, ~15 s in: latency p50 / p95 (ms)', `${r.relaySteadyLatencyP50Ms} / ${r.relaySteadyLatencyP95Ms}`, ''],
      ['relay, ~15 s in: playout delay (ms)', String(r.relaySteadyPlayoutMs), ''],
      ['relay: decoded fps', String(r.relayFps), ''],
      ['relay: audio continuity', String(r.relayAudioContinuity), '≥ 0.98'],
      ['relay: audio underruns at playout', String(r.relayAudioUnderrun), '< 0.01'],
      ['relay: audio concealed by the played receiver', String(r.relayAudioConcealed), ''],
      ['relay: loopback jitter buffer (ms)', String(r.relayAudioJitterBufferMs), ''],
      ['relay: playout delay (ms)', String(r.relayPlayoutMs), ''],
      ['300 kbit/s: latency p50 / p95 (ms)', `${r.throttledLatencyP50Ms} / ${r.throttledLatencyP95Ms}`, 'p95 ≤ 500'],
      ['300 kbit/s: decoded fps', String(r.throttledFps), ''],
      [
        'file during relay call: latency p95 (ms)',
        `${r.fileDuringCallLatencyP95Ms} (before: ${r.fileDuringCallBaselineP95Ms})`,
        '',
      ],
      ['switch gap direct → relay (ms)', String(r.switchGapMs), '≤ 1000'],
      ['switch gap relay → direct (ms)', String(r.switchBackGapMs), ''],
      ['CPU cores per side, relay call', String(r.cpuCores), ''],
      ['direct: accept → first frame (ms)', String(r.directFirstFrameMs), ''],
      ['direct: decoded fps', String(r.directFps), ''],
      ['direct: latency p50 / p95 (ms, capture → presented)', `${r.directLatencyP50Ms} / ${r.directLatencyP95Ms}`, ''],
      ['direct: audio continuity / concealed', `${r.directAudioContinuity} / ${r.directAudioConcealed}`, ''],
      ['direct: audio jitter buffer (ms)', String(r.directAudioJitterBufferMs), ''],
    ];
    const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
    for (const row of rows) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    await Promise.all([alice.close(), bob.close()]);
  } finally {
    await tb?.destroy();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:call failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
