// npm run bench:transfer — file transfer figures, Node peers in namespace hosts (a, b; relay in a third), one run:
//   direct    Parley transfer of SIZE bytes, direct path, beside a bare simple-peer+wrtc data-channel pump
//             between fresh peers in the same hosts (same stack, same run)  → directRatio
//   relay     Parley transfer with UDP and TCP blocked except the relay port, beside a bare ws forwarder
//             (no auth, no encryption) in the relay host                 → relayRatio
//   memory    receiver RSS growth (max during − before) for a BIG_SIZE file → rssGrowthMB
//   resume    receiver SIGKILLed at 50 %, restarted: bytes the sender sent again / file size → resumeResentPct
// Every run is timed on an open connection: the bare ones after connecting, Parley's after a small
// warm-up file opened its session (connection setup is bench:session's figure).
// Baselines and Parley runs are interleaved (ROUNDS each, default 3, best kept) so load changes hit
// both alike; single runs on this shared 2-core machine vary by up to 2x.
// Last line: one JSON object.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertTestbedAvailable, createTestbed, type Host } from '../tests/testbed/index.js';
import { startRelayHost, type RelayHandle } from '../tests/harness/peers/harness.js';
import { pairPeers, randomFile, sha256File, tempDir, TransferPeer } from '../tests/harness/transfer-peers/harness.js';

const MB = 1000 * 1000;
const SIZE = Number(process.env.SIZE_MB ?? 100) * MB;
const BIG_SIZE = Number(process.env.BIG_MB ?? 1000) * MB;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
// Optional engine overrides, for tuning runs.
const PEER_OPTIONS = {
  ...(process.env.CHUNK ? { chunkBytes: Number(process.env.CHUNK) } : {}),
  ...(process.env.WINDOW ? { windowBytes: Number(process.env.WINDOW) } : {}),
  ...(process.env.RELAY_WINDOW ? { relayWindowBytes: Number(process.env.RELAY_WINDOW) } : {}),
  ...(process.env.ACK ? { ackBytes: Number(process.env.ACK) } : {}),
  ...(process.env.SYNC === '0' ? { sync: false } : {}),
};
const PHASES = new Set((process.env.PHASES ?? 'direct,relay,memory,resume').split(','));
const DC_PUMP = fileURLToPath(new URL('../tests/harness/transfer-peers/dc-pump.ts', import.meta.url));
const FORWARDER = fileURLToPath(new URL('../tests/harness/transfer-peers/ws-forwarder.ts', import.meta.url));
const WS_PUMP = fileURLToPath(new URL('../tests/harness/transfer-peers/ws-pump.ts', import.meta.url));
const now = () => performance.timeOrigin + performance.now();
const mbps = (bytes: number, ms: number) => bytes / MB / (ms / 1000);
const log = (...args: unknown[]) => console.log('[transfer]', ...args);

/** CPU time (user + system, all threads) a process has used, ms; Linux clock ticks are 10 ms. */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** CPU ms per thread name (main thread "node", libuv pool, WebRTC threads…) of a process. */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8')
        .trim()
        .replace(/[0-9]+$/, '');
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      /* thread gone */
    }
  }
  return out;
}

/** "name 1.2 s, …" per thread name: CPU s per 100 MB between two threadCpu() snapshots. */
function threadSplit(before: Map<string, number>, after: Map<string, number>, bytes: number): string {
  return [...after]
    .map(([name, ms]) => [name, ((ms - (before.get(name) ?? 0)) / 1000) * ((100 * MB) / bytes)] as const)
    .filter(([, s]) => s >= 0.05)
    .sort((x, y) => y[1] - x[1])
    .map(([name, s]) => `${name} ${s.toFixed(2)}`)
    .join(', ');
}

/** CPU seconds per 100 MB moved, for each process, e.g. "2.1+1.9". */
function cpuPer100MB(pids: number[], before: number[], bytes: number): string {
  return pids
    .map((pid, i) => (((cpuMs(pid) - before[i]!) / 1000) * (100 * MB)) / bytes)
    .map((x) => x.toFixed(1))
    .join('+');
}

interface Run {
  speed: number;
  /** CPU seconds per 100 MB per process (sender+receiver[+relay]). */
  cpu: string;
}

/** Bare data channel: two dc-pump.ts processes, signals relayed over IPC by this process. */
async function barePump(a: Host, b: Host, bytes: number): Promise<Run> {
  type Msg = { type: string; data?: unknown; t?: number; t0?: number; message?: string };
  const x = a.spawnNode<Msg, Record<string, unknown>>(DC_PUMP, ['initiator']);
  const y = b.spawnNode<Msg, Record<string, unknown>>(DC_PUMP, ['responder']);
  try {
    await Promise.all([x.next((m) => m.type === 'ready', 30_000), y.next((m) => m.type === 'ready', 30_000)]);
    const forward = (from: typeof x, to: typeof y) =>
      from.inbox.tap((m) => {
        if (m.type !== 'signal') return false;
        void to.send({ signal: m.data }).catch(() => undefined);
        return true;
      });
    const offs = [forward(x, y), forward(y, x)];
    await y.send({ start: true });
    await x.send({ start: true });
    await Promise.all([x.next((m) => m.type === 'connected', 30_000), y.next((m) => m.type === 'connected', 30_000)]);
    offs.forEach((off) => off());
    await y.send({ expect: bytes });
    await y.next((m) => m.type === 'expecting');
    const pids = [x.pid, y.pid];
    const before = pids.map(cpuMs);
    const threadsBefore = pids.map(threadCpu);
    await x.send({ pump: bytes });
    const started = await x.next((m) => m.type === 'pumped', 300_000);
    const done = await y.next((m) => m.type === 'received', 300_000);
    if (process.env.THREADS)
      pids.forEach((pid, i) =>
        log(`  bare ${i ? 'receiver' : 'sender'} threads: ${threadSplit(threadsBefore[i]!, threadCpu(pid), bytes)}`),
      );
    return { speed: mbps(bytes, done.t! - started.t0!), cpu: cpuPer100MB(pids, before, bytes) };
  } finally {
    await Promise.all([x.stop(), y.stop()]);
  }
}

async function bareWs(a: Host, b: Host, relay: Host, bytes: number): Promise<Run> {
  const fwd = relay.spawnNode<{ type: string; port: number }>(FORWARDER, [relay.address, '0']);
  try {
    const { port } = await fwd.next((m) => m.type === 'listening', 30_000);
    const url = `ws://${relay.address}:${port}`;
    const sink = b.spawnNode<{ type: string; t?: number }>(WS_PUMP, [url, 'sink', String(bytes)]);
    await sink.next((m) => m.type === 'ready', 30_000);
    const source = a.spawnNode<{ type: string; t?: number }, { go: true }>(WS_PUMP, [url, 'source', String(bytes)]);
    await source.next((m) => m.type === 'ready', 30_000);
    const pids = [source.pid, sink.pid, fwd.pid];
    const before = pids.map(cpuMs);
    await source.send({ go: true });
    const started = await source.next((m) => m.type === 'started', 300_000);
    const done = await sink.next((m) => m.type === 'received', 300_000);
    const cpu = cpuPer100MB(pids, before, bytes);
    await Promise.all([source.stop(), sink.stop()]);
    return { speed: mbps(bytes, done.t! - started.t!), cpu };
  } finally {
    await fwd.stop();
  }
}

/** One Parley transfer of `path` from a fresh pair, once its session is open; MB/s from send() to the sender seeing it verified. */
async function parley(
  a: Host,
  b: Host,
  r: RelayHandle,
  path: string,
  warmUp: string,
  bytes: number,
  dirs: string[],
  onProgress?: (alice: TransferPeer, bob: TransferPeer) => Promise<void>,
): Promise<Run & { path: string; alice: TransferPeer; bob: TransferPeer }> {
  const [alice, bob] = await pairPeers(a, b, r.url, { a: PEER_OPTIONS, b: PEER_OPTIONS });
  dirs.push(alice.home, bob.home);
  try {
    // The bare baselines are timed on an open channel, so Parley is too: a small file first opens the
    // session (direct, or the relay after the direct attempt stalls: ~1 s, bench:session's figure).
    const [warmId] = await alice.send(bob.id, [warmUp]);
    await alice.waitFinal(warmId!, 60_000);
    const pids = [alice.proc.pid, bob.proc.pid, r.proc.pid];
    const before = pids.map(cpuMs);
    const threadsBefore = pids.map(threadCpu);
    const t0 = now();
    const [offerId] = await alice.send(bob.id, [path]);
    if (onProgress) await onProgress(alice, bob);
    const info = await alice.waitFinal(offerId!, 600_000);
    const ms = now() - t0;
    if (info.files[0]?.state !== 'verified')
      throw new Error(`transfer ended ${info.state}/${info.files[0]?.state}: ${JSON.stringify(info.files[0]?.error)}`);
    if (process.env.THREADS)
      pids
        .slice(0, 2)
        .forEach((pid, i) =>
          log(
            `  Parley ${i ? 'receiver' : 'sender'} threads: ${threadSplit(threadsBefore[i]!, threadCpu(pid), bytes)}`,
          ),
        );
    const stats = await alice.stats(bob.id);
    const cpu = cpuPer100MB(stats.path === 'relay' ? pids : pids.slice(0, 2), before, bytes);
    log(
      `  ${stats.path}: ${(ms / 1000).toFixed(1)} s, sender waited ${(stats.engine.windowWaitMs / 1000).toFixed(1)} s for its window, ${(stats.engine.streamWaitMs / 1000).toFixed(1)} s in stream.send`,
    );
    return { speed: mbps(bytes, ms), cpu, path: stats.path, alice, bob };
  } finally {
    await Promise.all([alice.close(), bob.close()]);
  }
}

await assertTestbedAvailable();
const tb = await createTestbed({ hosts: ['a', 'b', 'relay'] });
const dirs: string[] = [];
const result: Record<string, number | string> = {};
try {
  const { a, b, relay } = tb.hosts;
  const r = await startRelayHost(relay);
  const src = tempDir('bench');
  dirs.push(src);
  const file = randomFile(src, 'bench.bin', SIZE);
  const warmUp = randomFile(src, 'warm-up.bin', 64 * 1024);
  const fileHash = await sha256File(file);

  if (PHASES.has('direct')) {
    const bare: Run[] = [];
    const ours: Run[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      bare.push(await barePump(a, b, SIZE));
      const run = await parley(a, b, r, file, warmUp, SIZE, dirs);
      if (run.path !== 'direct') throw new Error(`direct run went ${run.path}`);
      ours.push(run);
      log(
        `direct round ${i + 1}: bare data channel ${bare.at(-1)!.speed.toFixed(1)} MB/s (CPU s/100 MB ${bare.at(-1)!.cpu}), Parley ${run.speed.toFixed(1)} MB/s (${run.cpu})`,
      );
    }
    const best = (runs: Run[]) => runs.reduce((x, y) => (y.speed > x.speed ? y : x));
    result.directBareMBps = +best(bare).speed.toFixed(1);
    result.directMBps = +best(ours).speed.toFixed(1);
    result.directRatio = +(best(ours).speed / best(bare).speed).toFixed(3);
    result.directCpuBare = best(bare).cpu;
    result.directCpu = best(ours).cpu;
  }

  if (PHASES.has('relay')) {
    const bare: Run[] = [];
    const ours: Run[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      bare.push(await bareWs(a, b, relay, SIZE));
      await a.blockAllExcept({ tcpPorts: [r.port], host: relay });
      try {
        const run = await parley(a, b, r, file, warmUp, SIZE, dirs);
        if (run.path !== 'relay') throw new Error(`relay run went ${run.path}`);
        ours.push(run);
      } finally {
        await a.unblock();
      }
      log(
        `relay round ${i + 1}: bare ws forwarder ${bare.at(-1)!.speed.toFixed(1)} MB/s (CPU s/100 MB ${bare.at(-1)!.cpu}), Parley ${ours.at(-1)!.speed.toFixed(1)} MB/s (${ours.at(-1)!.cpu})`,
      );
    }
    const best = (runs: Run[]) => runs.reduce((x, y) => (y.speed > x.speed ? y : x));
    result.relayBareMBps = +best(bare).speed.toFixed(1);
    result.relayMBps = +best(ours).speed.toFixed(1);
    result.relayRatio = +(best(ours).speed / best(bare).speed).toFixed(3);
    result.relayCpuBare = best(bare).cpu;
    result.relayCpu = best(ours).cpu;
  }

  if (PHASES.has('memory')) {
    const big = randomFile(src, 'big.bin', BIG_SIZE);
    const [alice, bob] = await pairPeers(a, b, r.url, { a: PEER_OPTIONS, b: PEER_OPTIONS });
    dirs.push(alice.home, bob.home);
    try {
      const before = await bob.stats(alice.id, true);
      const t0 = now();
      const [offerId] = await alice.send(bob.id, [big]);
      await alice.waitFinal(offerId!, 900_000);
      const ms = now() - t0;
      const after = await bob.stats(alice.id);
      result.rssGrowthMB = +((after.maxRss - before.rss) / MB).toFixed(1);
      result.bigMBps = +mbps(BIG_SIZE, ms).toFixed(1);
      log(
        `memory: ${BIG_SIZE / MB} MB at ${result.bigMBps} MB/s, receiver RSS ${(before.rss / MB).toFixed(0)} → max ${(after.maxRss / MB).toFixed(0)} MB`,
      );
    } finally {
      await Promise.all([alice.close(), bob.close()]);
      rmSync(big, { force: true });
    }
  }

  if (PHASES.has('resume')) {
    const [alice, bob] = await pairPeers(a, b, r.url, { a: PEER_OPTIONS, b: PEER_OPTIONS });
    dirs.push(alice.home, bob.home);
    let bob2: TransferPeer | null = null;
    try {
      const [offerId] = await alice.send(bob.id, [file]);
      const at = await bob.waitProgress((p) => p.offerId === offerId && p.bytesDone >= SIZE / 2, 300_000);
      await bob.kill();
      const sentAtKill = (await alice.stats(bob.id)).engine.chunkBytesSent;
      bob2 = await TransferPeer.spawn(b, 'bob', r.url, bob.options, bob.home);
      const info = await alice.waitFinal(offerId!, 600_000);
      if (info.files[0]?.state !== 'verified') throw new Error(`resume run ended ${info.files[0]?.state}`);
      await bob2.waitFinal(offerId!);
      const received = await sha256File(join(bob2.recvDir, 'bench.bin'));
      if (received !== fileHash) throw new Error('resumed file differs from the source');
      const stats = await alice.stats(bob.id);
      const resent = stats.engine.chunkBytesSent - SIZE;
      result.resumeResentPct = +((100 * resent) / SIZE).toFixed(3);
      log(
        `resume: killed at ${(at.bytesDone / MB).toFixed(1)} MB (sender had sent ${(sentAtKill / MB).toFixed(1)} MB), re-sent ${(resent / MB).toFixed(2)} MB; session re-sent ${stats.stream?.framesResent} frames`,
      );
    } finally {
      await Promise.all([alice.close(), bob.close(), bob2?.close()]);
    }
  }
} finally {
  await tb.destroy();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
