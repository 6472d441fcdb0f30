// A file transfer over the relay during a relay call, through the web client's UI, measured: shared by the
// e2e test (tests/e2e/call-relay-file.test.ts) and bench:call (bench/call-file-phase.ts). UDP blocked in Bob's
// host and no TURN server, so the chat session (and its file) and the call's media both go through the relay;
// the relay's link is limited with `tc tbf` (a real bottleneck with a 50 ms queue), so the file fills every
// queue on its path for the whole transfer. Alice offers Bob a file, calls him, and once the call has settled
// Bob accepts; the stats panel's relay latency P95 at Bob (capture → display of Alice's frames, over its last
// ~120 frames) is read before and during the transfer, and Bob's picture is sampled throughout.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Host } from '../../testbed/index.js';
import { callDialog, placeVideoCall } from './calls.js';
import { randomFile, sha256File, type AppUser } from './app.js';

export interface FileDuringCallOptions {
  alice: AppUser;
  bob: AppUser;
  /** Bob's host (UDP blocked there) and the relay's (its link limited). */
  bobHost: Host;
  relayHost: Host;
  /** Where the file is written and Bob's copy saved. */
  dir: string;
  bytes?: number;
  /** The relay link's rate (tc tbf syntax). Default 12mbit: the link, not the browsers' CPU, limits the file. */
  rate?: string;
  /** Called with diagnostics (bench:call's BENCH_CALL_TRACE): stage times, the link's drops, TCP counters. */
  trace?: (line: string) => void;
}

export interface FileDuringCall {
  /** The stats panel's latency P95 at Bob, one reading a second: before the transfer, and during it. */
  before: number[];
  during: number[];
  /**
   * Capture → arrival at Bob's media worker (the stats panel's video.toWorker stage, p50 over its last ~120
   * frames), read with each P95 above: the path's delay without the playout buffer, which the P95 includes
   * (its audio jitter buffer's target jumps on a CPU stall and comes down slowly).
   */
  arrivalBefore: number[];
  arrivalDuring: number[];
  /** Bob's remote picture sampled every 200 ms before (4 s) and during the transfer. */
  picturesBefore: PictureLog;
  pictures: PictureLog;
  /** Accept → done at Bob, ms. */
  transferMs: number;
  bytes: number;
  sentHash: string;
  receivedHash: string;
  /** data-phase of both call views after the transfer. */
  phases: [string | null, string | null];
}

/** The stats panel's relay latency P95 (ms), or null before it has one. */
export async function latencyP95(page: Page): Promise<number | null> {
  const value = await page.locator('[data-stat="latency"]').getAttribute('data-p95');
  return value ? Number(value) : null;
}

export interface PictureLog {
  /** Pictures sampled, and how many of them differed from the one before. */
  samples: number;
  changes: number;
  /** Frames the <video> presented meanwhile (getVideoPlaybackQuality), over `ms`. */
  frames: number;
  ms: number;
}

/**
 * Starts sampling the remote picture in the page (every 200 ms, a checksum of a 64×48 drawing); the returned
 * function stops and reads the log. In the page, so a busy main thread delays samples but cannot fake changes.
 */
async function pictureLog(page: Page): Promise<() => Promise<PictureLog>> {
  const video = page.locator('[data-testid="remote-video"]');
  const key = `parleyPictureLog${Math.random().toString(36).slice(2)}`;
  await video.evaluate((el, key) => {
    const v = el as HTMLVideoElement;
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 48;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const log = {
      samples: 0,
      changes: 0,
      frames0: v.getVideoPlaybackQuality().totalVideoFrames,
      t0: performance.now(),
      last: -1,
      timer: 0,
    };
    log.timer = window.setInterval(() => {
      ctx.drawImage(v, 0, 0, 64, 48);
      const data = ctx.getImageData(0, 0, 64, 48).data;
      let sum = 0;
      for (let i = 0; i < data.length; i += 1) sum = (Math.imul(sum, 31) + data[i]!) | 0;
      if (log.samples > 0 && sum !== log.last) log.changes++;
      log.samples++;
      log.last = sum;
    }, 200);
    (window as unknown as Record<string, unknown>)[key] = log;
  }, key);
  return () =>
    video.evaluate((el, key) => {
      const w = window as unknown as Record<
        string,
        { samples: number; changes: number; frames0: number; t0: number; timer: number }
      >;
      const log = w[key]!;
      window.clearInterval(log.timer);
      delete w[key];
      const frames = (el as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames - log.frames0;
      return { samples: log.samples, changes: log.changes, frames, ms: Math.round(performance.now() - log.t0) };
    }, key);
}

/** Distinct pictures of the remote <video> sampled every 200 ms over `ms` (hashes of a 64×48 drawing). */
export async function distinctPictures(page: Page, ms: number): Promise<number> {
  return page.locator('[data-testid="remote-video"]').evaluate(async (el, ms) => {
    const video = el as HTMLVideoElement;
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 48;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const hashes = new Set<string>();
    for (const end = performance.now() + ms; performance.now() < end;) {
      ctx.drawImage(video, 0, 0, 64, 48);
      const digest = await crypto.subtle.digest('SHA-256', ctx.getImageData(0, 0, 64, 48).data);
      hashes.add(btoa(String.fromCharCode(...new Uint8Array(digest))));
      await new Promise((r) => setTimeout(r, 200)); // the sampling period of a measurement window
    }
    return hashes.size;
  }, ms);
}

/** The remote <video>'s size and whether its playback position advances over 300 ms (diagnostics). */
async function videoState(page: Page): Promise<{ wide: boolean; moving: boolean; detail: string }> {
  return page.locator('[data-testid="remote-video"]').evaluate(async (el) => {
    const v = el as HTMLVideoElement;
    const t0 = v.currentTime;
    await new Promise((r) => setTimeout(r, 300));
    return {
      wide: v.videoWidth >= 320,
      moving: v.currentTime > t0,
      detail: `${v.videoWidth}x${v.videoHeight} paused=${v.paused} t=${v.currentTime} ready=${v.readyState}`,
    };
  });
}

/** Waits until the remote picture changes (> 2 distinct pictures in 1 s); fails with the video's state. */
async function movingPicture(page: Page, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < end) {
    seen = await distinctPictures(page, 1_000);
    if (seen > 2) return;
  }
  throw new Error(`the remote picture did not move (${seen} distinct; ${(await videoState(page)).detail})`);
}

/** Polls `cond` every 100 ms until true; throws after `timeoutMs`. (No vitest here: bench:call runs this.) */
async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await pause(100)) if (await cond()) return;
  throw new Error(`timed out waiting for ${what}`);
}

/** The stats panel's stage times (capture → stage, ms p50/p95), one line. */
async function stageLine(page: Page): Promise<string> {
  const raw = await page.locator('[data-stat="latency"]').getAttribute('data-stages');
  const st = raw ? (JSON.parse(raw) as Record<string, { p50: number; p95: number }>) : {};
  return Object.entries(st)
    .sort((x, y) => x[1].p50 - y[1].p50)
    .map(([k, v]) => `${k} ${v.p50}/${v.p95}`)
    .join(', ');
}

/** The stats panel's capture → arrival at the media worker (video.toWorker p50, ms), or null before it has one. */
async function arrivalP50(page: Page): Promise<number | null> {
  const raw = await page.locator('[data-stat="latency"]').getAttribute('data-stages');
  const stage = raw ? (JSON.parse(raw) as Record<string, { p50: number } | undefined>)['video.toWorker'] : undefined;
  return stage?.p50 ?? null;
}

/** TCP counters of a host's namespace (/proc/net/snmp and netstat), name → value. */
async function tcpCounters(host: Host): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const file of ['/proc/net/snmp', '/proc/net/netstat']) {
    const lines = (await host.exec('cat', [file])).stdout.split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = lines[i]!.split(/\s+/);
      const values = lines[i + 1]!.split(/\s+/);
      if (names[0] !== 'Tcp:' && names[0] !== 'TcpExt:') continue;
      for (let j = 1; j < names.length; j++) out.set(names[j]!, Number(values[j]));
    }
  }
  return out;
}

const TCP_TRACE = [
  'RetransSegs',
  'TCPTimeouts',
  'TCPLossProbes',
  'TCPFastRetrans',
  'TCPSlowStartRetrans',
  'TCPSpuriousRTOs',
];

function tcpDelta(a: Map<string, number>, b: Map<string, number>): string {
  return TCP_TRACE.map((k) => `${k} ${(b.get(k) ?? 0) - (a.get(k) ?? 0)}`).join(', ');
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms)); // sampling and polling periods

/** Runs the scenario (the call is hung up and the network restored at the end) and returns what it measured. */
export async function fileDuringRelayCall(o: FileDuringCallOptions): Promise<FileDuringCall> {
  const { alice, bob, bobHost, relayHost } = o;
  const bytes = o.bytes ?? 16 * 1024 * 1024;
  const name = `during-call-${Date.now()}.bin`;
  await bobHost.blockUdp();
  await relayHost.exec('tc', [
    ...['qdisc', 'replace', 'dev', relayHost.iface, 'root', 'tbf'],
    ...['rate', o.rate ?? '12mbit', 'burst', '64kb', 'latency', '50ms'],
  ]);
  try {
    await Promise.all([alice.openChat('Bob'), bob.openChat('Alice')]);
    await alice.send(`${name} is coming`);
    await bob.message(`${name} is coming`).waitFor({ timeout: 30_000 });
    await Promise.all([alice.waitHeaderPath('relay'), bob.waitHeaderPath('relay')]);
    // The offer first; Bob accepts it from the call view (which lists the files waiting for him) mid-call.
    const path = join(o.dir, name);
    const sentHash = await randomFile(path, bytes);
    await alice.sendFiles([path]);
    await bob.transferCard(name).getByRole('button', { name: 'Accept' }).waitFor({ timeout: 60_000 });

    const { atCaller: atAlice, atCallee: atBob } = await placeVideoCall(alice, bob);
    await bob.page.locator('[data-testid="media-path"][data-path="relay"]').waitFor({ timeout: 30_000 });
    // Settled: the picture at full size and moving (the first key frames are in), the latency known.
    await until(async () => (await videoState(bob.page)).wide, 30_000, 'the remote picture at full size');
    await movingPicture(bob.page, 30_000);
    await callDialog(bob, 'Alice').getByRole('button', { name: 'Statistics' }).click();
    await until(async () => (await latencyP95(bob.page)) !== null, 30_000, 'a relay latency in the stats panel');
    const before: number[] = [];
    const arrivalBefore: number[] = [];
    const beforeLog = await pictureLog(bob.page);
    for (let i = 0; i < 4; i++) {
      await pause(1_000);
      before.push((await latencyP95(bob.page))!);
      const arrival = await arrivalP50(bob.page);
      if (arrival !== null) arrivalBefore.push(arrival);
    }
    const picturesBefore = await beforeLog();

    const trace = o.trace;
    if (trace) trace(`before the file, stages at Bob: ${await stageLine(bob.page)}`);
    const hosts = trace ? [relayHost, bobHost] : [];
    const counters0 = await Promise.all(hosts.map(tcpCounters));
    const duringLog = await pictureLog(bob.page);
    await callDialog(bob, 'Alice').getByTestId('call-file-offers').getByRole('button', { name: 'Accept' }).click();
    const started = Date.now();
    let finished = false;
    const done = bob.waitTransfer(name, 'done').then(() => {
      finished = true;
    });
    const during: number[] = [];
    const arrivalDuring: number[] = [];
    while (!finished) {
      await pause(1_000);
      const p95 = await latencyP95(bob.page);
      if (p95 !== null) during.push(p95);
      const arrival = await arrivalP50(bob.page);
      if (arrival !== null) arrivalDuring.push(arrival);
      if (trace) {
        // The link's queue at this moment (what a media frame waits behind at the bottleneck).
        const qdisc = (await relayHost.exec('tc', ['-s', 'qdisc', 'show', 'dev', relayHost.iface])).stdout;
        const backlog = /backlog (\S+) (\S+)/.exec(qdisc)?.slice(1).join(' ') ?? '?';
        trace(`during the file, p95 ${p95}, link backlog ${backlog}, stages at Bob: ${await stageLine(bob.page)}`);
      }
    }
    await done;
    const transferMs = Date.now() - started;
    const pictures = await duringLog();
    if (trace) {
      const counters1 = await Promise.all(hosts.map(tcpCounters));
      trace(
        `TCP during the file: relay: ${tcpDelta(counters0[0]!, counters1[0]!)}; Bob: ${tcpDelta(counters0[1]!, counters1[1]!)}`,
      );
      trace(
        `relay link: ${(await relayHost.exec('tc', ['-s', 'qdisc', 'show', 'dev', relayHost.iface])).stdout.replace(/\s+/g, ' ')}`,
      );
    }
    // The panel covers the last ~4 s of frames: one more reading holds the transfer's end.
    during.push((await latencyP95(bob.page))!);
    const phases: [string | null, string | null] = [
      await atAlice.getAttribute('data-phase'),
      await atBob.getAttribute('data-phase'),
    ];
    await alice.waitTransfer(name, 'done');
    // Saved by the browser by itself (the default); read here without vitest, so bench:call can use it too.
    await until(async () => bob.downloads.some((d) => d.suggestedFilename() === name), 30_000, 'the download');
    const saved = join(o.dir, `received-${name}`);
    await bob.downloads.find((d) => d.suggestedFilename() === name)!.saveAs(saved);
    const receivedHash = await sha256File(saved);
    await atAlice.getByTestId('hang-up').click();
    await atBob.and(bob.page.locator('[data-phase="ended"]')).waitFor({ timeout: 15_000 });
    await callDialog(bob, 'Alice').waitFor({ state: 'hidden', timeout: 15_000 });
    return {
      before,
      during,
      arrivalBefore,
      arrivalDuring,
      picturesBefore,
      pictures,
      transferMs,
      bytes,
      sentHash,
      receivedHash,
      phases,
    };
  } finally {
    // After a failure: no call left up for whatever runs next (a retry).
    const hangUp = callDialog(alice, 'Bob').getByTestId('hang-up');
    if (await hangUp.isVisible()) await hangUp.click().catch(() => undefined);
    await relayHost.exec('tc', ['qdisc', 'del', 'dev', relayHost.iface, 'root']).catch(() => undefined);
    await bobHost.unblock();
  }
}
