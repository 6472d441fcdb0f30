// npm run bench:e2e — the web client against bare WebRTC pages, Chromium pair in network-namespace hosts
// (relay serving the client in a third host; each Chromium on a persistent profile, as a user's), one run:
//   (a) file throughput through the app (picked in the composer, accepted in the UI, verified by the
//       engine, written to OPFS) beside a bare simple-peer data-channel pump between the same browsers,
//       BENCH_E2E_ROUNDS (default 3) interleaved rounds, best of each kept;
//   (b) call click → first remote video frame in the app beside a bare simple-peer video call page;
//   (c) with PAIRDROP_DIR set (a PairDrop checkout, see bench/README.md), PairDrop's own server and web app
//       moving the same file between the same browsers in each round → vsPairdrop (app ÷ PairDrop MB/s);
//   (d) the desktop app between the same two hosts in the same rounds (BENCH_E2E_DESKTOP=0 skips it): two
//       desktop fixtures (tests/harness/desktop: the engine, main's bulk lanes, download sinks and picked
//       files, the preload bridge, behind a structured-clone stand-in for Electron's IPC; Electron itself
//       cannot run here; main's sinks fdatasync, as the app's), a file picked in main's dialog moved main to
//       main, hash checked → desktopVsPairdrop.
// Prints a table, then one JSON object as the last line: transferRatio (app MB/s ÷ bare MB/s, target ≥ 0.9)
// and callRatio (app ms ÷ bare ms, target ≤ 1.5).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import {
  assertTestbedAvailable,
  BrowserPeer,
  createTestbed,
  relaySignals,
  type Host,
  type Testbed,
} from '../tests/testbed/index.js';
import {
  APP_CONTEXT,
  AppUser,
  buildRenderer,
  introducedPair,
  randomFile,
  startWebRelay,
} from '../tests/harness/app/app.js';
import { Desktop } from '../tests/harness/desktop/desktop.js';
import { PairDropPair, startPairDrop } from './pairdrop/driver.js';

const FILE_BYTES = Number(process.env.BENCH_E2E_MB ?? 100) * 1024 * 1024;
const STEP_TIMEOUT = 240_000;
/** File transfer rounds (bare then app each round, best of each kept): single runs vary a lot on 2 shared cores. */
const ROUNDS = Number(process.env.BENCH_E2E_ROUNDS ?? 3);
/** Investigation knob BENCH_E2E_BARE_CHUNKS=65536,262144: extra bare pumps per round with these message sizes. */
const BARE_CHUNKS = (process.env.BENCH_E2E_BARE_CHUNKS ?? '').split(',').filter(Boolean).map(Number);
/** A PairDrop checkout with its npm dependencies installed (GPL-3.0, not on npm: not part of Parley). */
const PAIRDROP_DIR = process.env.PAIRDROP_DIR;
const PAIRDROP_PORT = 3100;
/** BENCH_E2E_BARE_VIDEO=0: the bare pump without the app's video m-section (a data channel's 64 KiB UDP receive buffer). */
const BARE_VIDEO = process.env.BENCH_E2E_BARE_VIDEO !== '0';
/** BENCH_E2E_DESKTOP=0: no desktop row. */
const DESKTOP = process.env.BENCH_E2E_DESKTOP !== '0';

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** BENCH_E2E_THREADS=1: CPU ms per Chromium thread around each transfer, keyed "host process-type thread-name". */
const SHOW_THREADS = process.env.BENCH_E2E_THREADS === '1';

/** Host name by network-namespace inode, so only our two browsers count (other Chromiums share the machine). */
let hostByNetns = new Map<number, string>();

function labelHosts(hosts: Host[]): void {
  hostByNetns = new Map(hosts.map((h) => [statSync(`/run/netns/${h.ns}`).ino, h.name]));
}

function chromiumThreadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('chromium')) continue;
      const host = hostByNetns.get(statSync(`/proc/${pid}/ns/net`).ino);
      if (!host) continue;
      const type = /--type=([a-z-]+)/.exec(cmd)?.[1] ?? 'browser';
      const sub = /--utility-sub-type=[a-z]+\.mojom\.([A-Za-z]+)/.exec(cmd)?.[1];
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8')
          .trim()
          .replace(/[0-9]+$/, '');
        const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        const key = `${host} ${sub ?? type} ${name}`;
        out.set(key, (out.get(key) ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10);
      }
    } catch {
      /* process or thread gone */
    }
  }
  return out;
}

/**
 * Per-thread CPU ms over an interval, biggest first, each as a share of the transfer's timed duration (`mbps`:
 * a thread near 100 % bounds the transfer), then CPU-s per GB by host (all processes, and renderers).
 */
function threadCpuTable(before: Map<string, number>, after: Map<string, number>, mbps: number): string {
  const transferMs = FILE_BYTES / 1e6 / mbps / 1e-3;
  const delta = [...after].map(([key, ms]) => [key, ms - (before.get(key) ?? 0)] as const);
  const perGB = (ms: number) => (ms / 1000 / (FILE_BYTES / 1e9)).toFixed(1);
  const sums = [...new Set(delta.map(([key]) => key.split(' ')[0]!))].sort().map((host) => {
    const mine = delta.filter(([key]) => key.startsWith(`${host} `));
    const all = mine.reduce((a, [, ms]) => a + ms, 0);
    const renderer = mine.filter(([key]) => key.split(' ')[1] === 'renderer').reduce((a, [, ms]) => a + ms, 0);
    return `      host ${host}: ${perGB(all)} CPU-s/GB (renderer ${perGB(renderer)})`;
  });
  return [
    ...delta
      .filter(([, ms]) => ms >= 100)
      .sort((x, y) => y[1] - x[1])
      .map(([key, ms]) => `      ${key}: ${ms} ms (${((ms * 100) / transferMs).toFixed(0)} % of the transfer)`),
    ...sums,
  ].join('\n');
}

/** UDP datagrams the hosts' kernels dropped for a full socket receive buffer (Chromium's are 64 KiB). */
async function udpRcvbufErrors(hosts: Host[]): Promise<number> {
  let total = 0;
  for (const host of hosts) {
    const lines = (await host.exec('cat', ['/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Udp:'));
    const [keys, values] = lines.map((l) => l.trim().split(/\s+/));
    total += Number(values?.[keys?.indexOf('RcvbufErrors') ?? -1] ?? 0);
  }
  return total;
}

/** (a, bare) A data channel between two Chromiums moving FILE_BYTES, timed inside the receiving page. */
async function bareTransfer(browserA: BrowserContext, browserB: BrowserContext, chunkSize?: number): Promise<number> {
  const before = SHOW_THREADS ? chromiumThreadCpu() : null;
  const [a, b] = await Promise.all([BrowserPeer.open(browserA, 'bare-a'), BrowserPeer.open(browserB, 'bare-b')]);
  // The app's offer carries an inactive video m-section, which gets the UDP socket video's receive buffer instead
  // of 64 KiB (core/src/session/direct-attempt.ts); the bare pump gets the same unless BENCH_E2E_BARE_VIDEO=0, so
  // transferRatio compares like with like. A string: tsx's __name helper is not in the page.
  if (BARE_VIDEO)
    await a.page.evaluate(`(() => {
      const Peer = window.SimplePeer;
      window.SimplePeer = function (opts) {
        const p = new Peer(opts);
        if (opts && opts.initiator) p.addTransceiver('video', { direction: 'inactive' });
        return p;
      };
    })()`);
  const relayed = relaySignals(a, b);
  try {
    await a.create({ initiator: true });
    await b.create({ initiator: false });
    await Promise.all([a.connected(30_000), b.connected(30_000)]);
    await b.expect(FILE_BYTES);
    await a.pump(FILE_BYTES, chunkSize);
    const got = await b.next('received', STEP_TIMEOUT);
    const sent = await a.next('pumped', STEP_TIMEOUT);
    if (got.sha256 !== sent.sha256) throw new Error('bare pump: hashes differ');
    // Before the pages close, or their processes' CPU is gone.
    const mbps = FILE_BYTES / 1e6 / (got.ms / 1000);
    if (before) log(`    bare pump CPU by thread:\n${threadCpuTable(before, chromiumThreadCpu(), mbps)}`);
    return mbps;
  } finally {
    relayed.stop();
    await Promise.all([a.close(), b.close()]);
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Investigation knob BENCH_E2E_PROFILE=1: CPU profiles of both pages' main threads during the app transfer. */
async function startProfile(page: Page): Promise<() => Promise<CpuProfile>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.start');
  return async () => ((await cdp.send('Profiler.stop')) as { profile: CpuProfile }).profile;
}

function topSelfTime(profile: CpuProfile, n = 12): string {
  const byNode = new Map(profile.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const f = byNode.get(id)?.callFrame;
    const key = f
      ? `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}:${f.columnNumber}`
      : '?';
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, ms]) => `    ${((ms * 100) / total).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');
}

/** (a, app) The same bytes as a file through the UI: accept click → the receiver shows it verified. */
async function appTransfer(alice: AppUser, bob: AppUser, dir: string, name: string): Promise<number> {
  const path = join(dir, name);
  await randomFile(path, FILE_BYTES);
  await alice.sendFiles([path]);
  const accept = bob.transferCard(name).getByRole('button', { name: 'Accept' });
  await accept.waitFor({ timeout: 60_000 });
  const id = await bob.transferCard(name).getAttribute('data-transfer-id');
  if (!id || !/^[\w:-]+$/.test(id)) throw new Error(`transfer card for ${name} has no usable id: ${id}`);
  // Timed inside the page, as the bare pump is: the Accept click to the card showing the file verified.
  // Timing from here would add Playwright's click action and its polling for the result (0.3-0.45 s
  // measured, ~4 % of a 100 MB run). A string, not a function: tsx's __name helper is not in the page.
  await bob.page.evaluate(`(() => {
    const w = window;
    w.__benchClick = undefined;
    w.__benchDone = undefined;
    document.addEventListener('click', () => { w.__benchClick ??= performance.now(); }, { capture: true, once: true });
    // The receiver's progress bar over time (every progress event, ~4/s): where the time goes. Both
    // observers stop when this round's file is verified, or a later round would read this card.
    w.__benchProgress = [];
    const bar = new MutationObserver(() => {
      const v = document.querySelector('article[data-transfer-id="${id}"] [role=progressbar]')?.getAttribute('aria-valuenow');
      const last = w.__benchProgress[w.__benchProgress.length - 1];
      if (v !== null && v !== undefined && (!last || last[1] !== Number(v))) w.__benchProgress.push([performance.now(), Number(v)]);
    });
    bar.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    const observer = new MutationObserver(() => {
      if (document.querySelector('article[data-transfer-id="${id}"]')?.getAttribute('data-status') === 'done') {
        w.__benchDone = performance.now();
        observer.disconnect();
        bar.disconnect();
      }
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
  })()`);
  // The sender's side of the start-up: when its card turns active (the accept arrived) and first shows
  // progress (bytes sent), in epoch ms (performance.timeOrigin), comparable with the receiver's on one machine.
  const senderId = await alice.transferCard(name).getAttribute('data-transfer-id');
  if (!senderId || !/^[\w:-]+$/.test(senderId))
    throw new Error(`sender's card for ${name} has no usable id: ${senderId}`);
  await alice.page.evaluate(`(() => {
    const w = window;
    const at = () => performance.timeOrigin + performance.now();
    w.__benchSender = {};
    const observer = new MutationObserver(() => {
      const card = document.querySelector('article[data-transfer-id="${senderId}"]');
      if (!card) return;
      if (w.__benchSender.active === undefined && card.getAttribute('data-status') === 'active') w.__benchSender.active = at();
      const v = card.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow');
      if (w.__benchSender.progress === undefined && v !== null && v !== undefined && Number(v) > 0) {
        w.__benchSender.progress = at();
        observer.disconnect();
      }
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status', 'aria-valuenow'] });
  })()`);
  const profiling = process.env.BENCH_E2E_PROFILE === '1';
  const stops = profiling ? await Promise.all([startProfile(alice.page), startProfile(bob.page)]) : [];
  await accept.click();
  await bob.waitTransfer(name, 'done', STEP_TIMEOUT);
  const { click, done } = (await bob.page.evaluate('({ click: window.__benchClick, done: window.__benchDone })')) as {
    click?: number;
    done?: number;
  };
  if (click === undefined || done === undefined || !(done > click))
    throw new Error(`app transfer not timed in the page (click ${click}, done ${done})`);
  const mbps = FILE_BYTES / 1e6 / ((done - click) / 1000);
  const progress = (await bob.page.evaluate('window.__benchProgress')) as Array<[number, number]>;
  const origin = (await bob.page.evaluate('performance.timeOrigin')) as number;
  const sender = (await alice.page.evaluate('window.__benchSender')) as { active?: number; progress?: number };
  const since = (t: number | undefined): string => (t === undefined ? '?' : `${(t - origin - click).toFixed(0)} ms`);
  log(
    `    app start-up: click → sender's card active ${since(sender.active)}, → sender's first progress ${since(sender.progress)}`,
  );
  if (progress.length > 1) {
    const first = progress.find(([, pct]) => pct > 0) ?? progress[0]!;
    const last = progress[progress.length - 1]!;
    let gap = 0;
    for (let i = 1; i < progress.length; i++) gap = Math.max(gap, progress[i]![0] - progress[i - 1]![0]);
    log(
      `    app timeline: click → first progress ${(first[0] - click).toFixed(0)} ms, ` +
        `then ${(last[1] - first[1]).toFixed(0)} % in ${(last[0] - first[0]).toFixed(0)} ms, ` +
        `last progress (${last[1]} %) → verified ${(done - last[0]).toFixed(0)} ms; longest gap between updates ${gap.toFixed(0)} ms`,
    );
  }
  if (profiling) {
    const [sender, receiver] = await Promise.all(stops.map((stop) => stop()));
    log(`  sender main thread, top self time:\n${topSelfTime(sender!)}`);
    log(`  receiver main thread, top self time:\n${topSelfTime(receiver!)}`);
  }
  return mbps;
}

const sha256File = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * (d) The desktop app on the same two hosts: one desktop fixture each (engine, main's bulk lanes and download
 * sinks, preload bridge, IPC stand-in), contacts of each other through the same relay as the web client.
 */
class DesktopPair {
  private constructor(
    readonly alice: Desktop,
    readonly bob: Desktop,
    readonly bobRecv: string,
  ) {}

  static async open(a: Host, b: Host, relayUrl: string, dir: string): Promise<DesktopPair> {
    const sub = (name: string): string => {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      return d;
    };
    const bobRecv = sub('desktop-bob-recv');
    const [alice, bob] = await Promise.all([
      Desktop.start(a, sub('desktop-alice'), relayUrl, {
        recvDir: sub('desktop-alice-recv'),
        bulk: true,
        sync: true,
        name: 'Alice',
      }),
      Desktop.start(b, sub('desktop-bob'), relayUrl, { recvDir: bobRecv, bulk: true, sync: true, name: 'Bob' }),
    ]);
    const pair = new DesktopPair(alice, bob, bobRecv);
    try {
      await alice.request({ cmd: 'add', invite: bob.invite }, 60_000);
      await bob.request({ cmd: 'add', invite: alice.invite }, 60_000);
      // A first file opens the session (and its direct paths) on both sides, as the app's rounds start on
      // the direct path; the rounds are timed after it.
      const warm = join(dir, 'desktop-warm.bin');
      await randomFile(warm, 2 * 1024 * 1024);
      await pair.transfer(warm, 'desktop-warm.bin');
      return pair;
    } catch (error) {
      await pair.close();
      throw error;
    }
  }

  /**
   * A file picked in main's dialog, offered → the receiver's engine accepts on its own → both sides verified;
   * the received file's SHA-256 checked against the source. Timed from the offer (the app and PairDrop are
   * timed from the Accept click: the offer's round trip counts against the desktop here).
   */
  async transfer(path: string, name: string): Promise<{ mbps: number; laneShare: number; cpuSPerGB: string }> {
    const bytes = statSync(path).size;
    const before = await this.bob.ipc();
    const cpu0 = [processCpuMs(this.alice.proc.pid), processCpuMs(this.bob.proc.pid)];
    const t0 = performance.now();
    const offerId = await this.alice.sendPicked(this.bob.id, path, name, bytes);
    await Promise.all([
      this.alice.verified('out', offerId, STEP_TIMEOUT),
      this.bob.verified('in', offerId, STEP_TIMEOUT),
    ]);
    const ms = performance.now() - t0;
    const cpu1 = [processCpuMs(this.alice.proc.pid), processCpuMs(this.bob.proc.pid)];
    const after = await this.bob.ipc();
    if (sha256File(join(this.bobRecv, name)) !== sha256File(path))
      throw new Error('desktop: the received file differs from the source');
    const perGB = (i: number): string => ((cpu1[i]! - cpu0[i]!) / 1000 / (bytes / 1e9)).toFixed(1);
    return {
      mbps: bytes / 1e6 / (ms / 1000),
      laneShare: (after.stats.laneBytesReceived - before.stats.laneBytesReceived) / bytes,
      cpuSPerGB: `sender ${perGB(0)}, receiver ${perGB(1)}`,
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.alice.proc.stop(), this.bob.proc.stop()]);
  }
}

// The bare call page: simple-peer's bundle plus this script, served under the relay's (secure-flagged)
// origin by Playwright's request interception, so getUserMedia is allowed. Same camera constraints as the app.
const BARE_CALL_SCRIPT = `
window.__bare = {
  async start(initiator) {
    const t0 = performance.now();
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 } } });
    const peer = new SimplePeer({ initiator, stream, trickle: true, config: { iceServers: [] } });
    window.__peer = peer;
    peer.on('signal', (data) => window.__emit({ type: 'signal', data: JSON.parse(JSON.stringify(data)) }));
    peer.on('error', (err) => window.__emit({ type: 'error', message: String(err && err.message) }));
    peer.on('stream', (remote) => {
      const v = document.createElement('video');
      v.muted = true; v.autoplay = true; v.playsInline = true; v.srcObject = remote;
      document.body.append(v);
      v.requestVideoFrameCallback(() => window.__emit({ type: 'frame', ms: performance.now() - t0 }));
    });
    for (const s of window.__pending.splice(0)) peer.signal(s);
  },
  signal(data) { if (window.__peer) window.__peer.signal(data); else window.__pending.push(data); },
};
window.__pending = [];
`;

type BareEvent =
  | { type: 'signal'; data: Record<string, unknown> }
  | { type: 'frame'; ms: number }
  | { type: 'error'; message: string };

async function openBareCallPage(
  browser: BrowserContext,
  origin: string,
  onEvent: (e: BareEvent) => void,
): Promise<Page> {
  const { createRequire } = await import('node:module');
  const bundle = createRequire(import.meta.url).resolve('simple-peer/simplepeer.min.js');
  const page = await browser.newPage();
  await page.exposeFunction('__emit', onEvent);
  await page.route(`${origin}/bench-bare-call.html`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>bare call</title>' }),
  );
  await page.goto(`${origin}/bench-bare-call.html`);
  await page.addScriptTag({ path: bundle });
  await page.addScriptTag({ content: BARE_CALL_SCRIPT });
  return page;
}

/** (b, bare) Caller starts (camera + offer); the callee "accepts" when the bench sees the offer; caller's first remote frame. */
async function bareCall(browserA: BrowserContext, browserB: BrowserContext, origin: string): Promise<number> {
  let callerPage: Page | null = null;
  let calleePage: Page | null = null;
  let calleeStarted = false;
  let resolveFrame!: (ms: number) => void;
  let rejectFrame!: (e: Error) => void;
  const frame = new Promise<number>((res, rej) => {
    resolveFrame = res;
    rejectFrame = rej;
  });
  calleePage = await openBareCallPage(browserB, origin, (e) => {
    if (e.type === 'signal')
      void callerPage?.evaluate(
        (d) => (window as unknown as { __bare: { signal(d: unknown): void } }).__bare.signal(d),
        e.data,
      );
    if (e.type === 'error') rejectFrame(new Error(`bare callee: ${e.message}`));
  });
  callerPage = await openBareCallPage(browserA, origin, (e) => {
    if (e.type === 'signal') {
      void calleePage?.evaluate(
        (d) => (window as unknown as { __bare: { signal(d: unknown): void } }).__bare.signal(d),
        e.data,
      );
      if (!calleeStarted) {
        calleeStarted = true;
        void calleePage?.evaluate(() =>
          (window as unknown as { __bare: { start(i: boolean): Promise<void> } }).__bare.start(false),
        );
      }
    }
    if (e.type === 'frame') resolveFrame(e.ms);
    if (e.type === 'error') rejectFrame(new Error(`bare caller: ${e.message}`));
  });
  try {
    await callerPage.evaluate(() =>
      (window as unknown as { __bare: { start(i: boolean): Promise<void> } }).__bare.start(true),
    );
    return await Promise.race([
      frame,
      new Promise<number>((_, rej) => setTimeout(() => rej(new Error('bare call: no remote frame in 60 s')), 60_000)),
    ]);
  } finally {
    await Promise.all([callerPage.close(), calleePage.close()]);
  }
}

/** (b, app) Click "Video call" → the callee accepts as soon as it rings → first frame in the caller's remote view. */
async function appCall(alice: AppUser, bob: AppUser): Promise<number> {
  const button = alice.page.getByRole('button', { name: 'Video call with Bob' });
  // In-page timestamps: the click (capture phase) and the first frame the remote <video> presents.
  // A string, not a function: tsx's keep-names helper (__name) does not exist inside the page.
  await alice.page.evaluate(`(() => {
    document.addEventListener('click', () => { window.__clickAt ??= performance.now(); }, { capture: true, once: true });
    const watch = () => {
      const v = document.querySelector('[data-testid="remote-video"]');
      if (v && v.srcObject) v.requestVideoFrameCallback(() => { window.__frameAt ??= performance.now(); });
      else requestAnimationFrame(watch);
    };
    requestAnimationFrame(watch);
  })()`);
  await button.click();
  await bob.page
    .getByRole('dialog', { name: 'Alice is calling' })
    .getByRole('button', { name: 'Accept with video' })
    .click({ timeout: 30_000 });
  await alice.page.waitForFunction(
    () => (window as unknown as { __frameAt?: number }).__frameAt !== undefined,
    undefined,
    { timeout: 60_000 },
  );
  const ms = await alice.page.evaluate(() => {
    const w = window as unknown as { __clickAt: number; __frameAt: number };
    return w.__frameAt - w.__clickAt;
  });
  await alice.page.getByTestId('hang-up').click();
  return ms;
}

async function main(): Promise<void> {
  await assertTestbedAvailable({ chromium: true });
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-e2e-'));
  let tb: Testbed<'a' | 'b' | 'relay'> | null = null;
  try {
    log('building the web client…');
    await buildRenderer();
    tb = await createTestbed({ hosts: ['a', 'b', 'relay'] });
    const relay = await startWebRelay(tb.hosts.relay);
    const origin = new URL(relay.httpUrl).origin;
    const pairdropOrigin = `http://${tb.hosts.relay.address}:${PAIRDROP_PORT}`;
    const opts = {
      media: true,
      secureOrigins: [origin, pairdropOrigin],
      extraArgs: ['--autoplay-policy=no-user-gesture-required'],
    };
    // Persistent profiles, as a user's browser has: storage on disk. Off-the-record contexts keep the
    // origin-private file system in the browser process's memory, an IPC per write (~1 CPU-s per 100 MB).
    // The bare pages and call pages open in the same browsers.
    const [browserA, browserB] = await Promise.all([
      tb.hosts.a.launchChromiumProfile(opts, APP_CONTEXT),
      tb.hosts.b.launchChromiumProfile(opts, APP_CONTEXT),
    ]);

    const hosts = [tb.hosts.a, tb.hosts.b];
    labelHosts(hosts);
    const [alice, bob] = await introducedPair(browserA, browserB, relay.httpUrl, ['Alice', 'Bob']);
    await Promise.all([alice.openChat('Bob'), bob.openChat('Alice')]);
    // Measure the direct path, like the bare pump (the app starts on the relay while direct connects).
    await Promise.all([alice.waitHeaderPath('direct', 60_000), bob.waitHeaderPath('direct', 60_000)]);
    let pairdrop: PairDropPair | null = null;
    if (PAIRDROP_DIR) {
      const server = await startPairDrop(tb.hosts.relay, PAIRDROP_DIR, dir, PAIRDROP_PORT);
      pairdrop = await PairDropPair.open(browserA, browserB, server);
    } else log('(c) PAIRDROP_DIR is not set: PairDrop not measured (see bench/README.md)');
    const desktop = DESKTOP ? await DesktopPair.open(tb.hosts.a, tb.hosts.b, relay.url, dir) : null;
    // Bare, app (and PairDrop) runs interleaved, best of each kept: load changes hit them alike.
    let bareMBps = 0;
    let appMBps = 0;
    let pairdropMBps = 0;
    let desktopMBps = 0;
    /** app ÷ bare of each round: the two runs of a round share the machine's load of the moment. */
    const roundRatios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      log(`(a) round ${round}/${ROUNDS}: bare data channel, ${FILE_BYTES / 1024 / 1024} MB…`);
      const drops0 = await udpRcvbufErrors(hosts);
      const bare = await bareTransfer(browserA, browserB);
      for (const size of BARE_CHUNKS) {
        const mbps = await bareTransfer(browserA, browserB, size);
        log(`    bare pump with ${size}-byte messages: ${mbps.toFixed(1)} MB/s`);
      }
      const drops1 = await udpRcvbufErrors(hosts);
      log(`(a) round ${round}/${ROUNDS}: app file transfer, ${FILE_BYTES / 1024 / 1024} MB…`);
      const before = SHOW_THREADS ? chromiumThreadCpu() : null;
      const app = await appTransfer(alice, bob, dir, `bench-${round}.bin`);
      const drops2 = await udpRcvbufErrors(hosts);
      if (before) log(`    app CPU by thread:\n${threadCpuTable(before, chromiumThreadCpu(), app)}`);
      log(
        `    bare ${bare.toFixed(1)} MB/s (${drops1 - drops0} UDP drops), app ${app.toFixed(1)} MB/s (${drops2 - drops1} UDP drops)`,
      );
      if (pairdrop) {
        log(`(c) round ${round}/${ROUNDS}: PairDrop, ${FILE_BYTES / 1024 / 1024} MB…`);
        const path = join(dir, `pairdrop-${round}.bin`);
        await randomFile(path, FILE_BYTES);
        const before = SHOW_THREADS ? chromiumThreadCpu() : null;
        const mbps = await pairdrop.transfer(path, FILE_BYTES, STEP_TIMEOUT);
        if (before) log(`    PairDrop CPU by thread:\n${threadCpuTable(before, chromiumThreadCpu(), mbps)}`);
        log(`    PairDrop ${mbps.toFixed(1)} MB/s`);
        pairdropMBps = Math.max(pairdropMBps, mbps);
      }
      if (desktop) {
        log(`(d) round ${round}/${ROUNDS}: desktop, ${FILE_BYTES / 1024 / 1024} MB…`);
        const path = join(dir, `desktop-${round}.bin`);
        await randomFile(path, FILE_BYTES);
        const d = await desktop.transfer(path, `desktop-${round}.bin`);
        log(
          `    desktop ${d.mbps.toFixed(1)} MB/s (${(d.laneShare * 100).toFixed(0)} % on a bulk lane; CPU-s/GB ${d.cpuSPerGB})`,
        );
        desktopMBps = Math.max(desktopMBps, d.mbps);
      }
      bareMBps = Math.max(bareMBps, bare);
      appMBps = Math.max(appMBps, app);
      roundRatios.push(Number((app / bare).toFixed(3)));
    }

    // PairDrop's pages and the desktop fixtures go first: with PairDrop's tabs open the app's call read 3.2–3.9 s
    // against 0.42 s for the bare page opened after them (callRatio 7–9, 1.2 without PairDrop).
    await pairdrop?.close();
    await desktop?.close();
    log('(b) bare simple-peer video call…');
    const bareCallMs = await bareCall(browserA, browserB, origin);
    log('(b) app video call…');
    const appCallMs = await appCall(alice, bob);
    const transferRatio = appMBps / bareMBps;
    const vsPairdrop = pairdrop ? appMBps / pairdropMBps : null;
    const desktopVsPairdrop = pairdrop && desktop ? desktopMBps / pairdropMBps : null;
    const callRatio = appCallMs / bareCallMs;
    const rows: Array<[string, string, string, string]> = [
      ['measure', 'app', 'bare', 'ratio (target)'],
      ['file throughput MB/s', appMBps.toFixed(1), bareMBps.toFixed(1), `${transferRatio.toFixed(2)} (≥ 0.9)`],
      [
        'file throughput MB/s vs PairDrop',
        appMBps.toFixed(1),
        pairdrop ? `PairDrop ${pairdropMBps.toFixed(1)}` : 'not measured',
        vsPairdrop === null ? '- (≥ 1.4)' : `${vsPairdrop.toFixed(2)} (≥ 1.4)`,
      ],
      [
        'desktop (fixtures, no Electron) MB/s vs PairDrop',
        desktop ? desktopMBps.toFixed(1) : 'not measured',
        pairdrop ? `PairDrop ${pairdropMBps.toFixed(1)}` : 'not measured',
        desktopVsPairdrop === null ? '- (≥ 1.4)' : `${desktopVsPairdrop.toFixed(2)} (≥ 1.4)`,
      ],
      [
        'call click → first remote frame ms',
        appCallMs.toFixed(0),
        bareCallMs.toFixed(0),
        `${callRatio.toFixed(2)} (≤ 1.5)`,
      ],
    ];
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
    process.stdout.write(
      `${JSON.stringify({
        transferRatio: Number(transferRatio.toFixed(3)),
        callRatio: Number(callRatio.toFixed(3)),
        vsPairdrop: vsPairdrop === null ? null : Number(vsPairdrop.toFixed(3)),
        desktopVsPairdrop: desktopVsPairdrop === null ? null : Number(desktopVsPairdrop.toFixed(3)),
        pairdropMBps: pairdrop ? Number(pairdropMBps.toFixed(2)) : null,
        appMBps: Number(appMBps.toFixed(2)),
        desktopMBps: desktop ? Number(desktopMBps.toFixed(2)) : null,
        bareMBps: Number(bareMBps.toFixed(2)),
        appCallMs: Math.round(appCallMs),
        bareCallMs: Math.round(bareCallMs),
        roundRatios,
        fileMB: FILE_BYTES / 1024 / 1024,
        loadavg1: Number(loadavg()[0]!.toFixed(2)),
      })}\n`,
    );
    await Promise.all([alice.close(), bob.close()]);
  } finally {
    await tb?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:e2e failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
