// npm run bench:desktop-bulk (under flock /tmp/parley-cpu.lock) — the desktop app's file path on a session over TCP, stage A against stage B, one
// interleaved run in namespace hosts (a: sender, b: receiver, relay in a third). Each side is the desktop app
// minus Electron (tests/harness/desktop/desktop-peer.ts): the real main-side pieces behind an
// in-process structured-clone stand-in for Electron's IPC, the real preload and renderer pieces under a core
// Messenger, each side one Node process.
//   stageA  the file's records cross the IPC stand-in to the renderer's engine, which writes through the
//           download-sink IPC (the sender's engine reads the file itself: the real app reads a Blob)
//   stageB  bulk lanes: the sender's main reads the file (picked in main's dialog), the receiver's main writes it;
//           the renderers exchange control only
// Per round: wall time from offer to both sides verified, CPU seconds of each process (/proc), binary bytes
// across each IPC stand-in. THE STAND-IN RUNS IN ONE PROCESS: it copies (structured clone) but has no
// process hop, no Mojo, no serialization cost of Electron's real IPC; stage A's real cost is higher than here.
// Env: SIZE_MB (default 256), ROUNDS (default 2 per stage). Last line: one JSON object.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertTestbedAvailable, createTestbed, type Host, type NodeProcess } from '../tests/testbed/index.js';
import { startRelayHost } from '../tests/harness/peers/harness.js';
import { randomFile, tempDir } from '../tests/harness/transfer-peers/harness.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.SIZE_MB ?? 256) * MiB;
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const DESKTOP = fileURLToPath(new URL('../tests/harness/desktop/desktop-peer.ts', import.meta.url));
const log = (...args: unknown[]) => console.log('[desktop-bulk]', ...args);
const dirs: string[] = [];
const tmp = (prefix: string): string => {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
};

type Out =
  | { type: 'ready'; id: string; invite: string }
  | { type: 'result'; req: number; value?: unknown; error?: string }
  | { type: 'state'; direction: string; states: string[]; offerId: string }
  | { type: 'progress'; direction: string; offerId: string; route: string; fileBytesDone: number };
type In = Record<string, unknown> & { cmd: string; req: number };
interface Ipc {
  toMain: number;
  toRenderer: number;
  stats: { laneBytesReceived: number; laneBytesSent: number; chunkBytesReceived: number };
}

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

class Desk {
  #req = 0;
  constructor(
    readonly proc: NodeProcess<Out, In>,
    readonly id: string,
    readonly invite: string,
    readonly recv: string,
  ) {}

  static async start(host: Host, relayUrl: string, label: string): Promise<Desk> {
    const recv = tmp(`bulk-bench-${label}-recv`);
    const proc = host.spawnNode<Out, In>(DESKTOP, [
      tmp(`bulk-bench-${label}-home`),
      label,
      relayUrl,
      JSON.stringify({ recvDir: recv, bulk: true }),
    ]);
    const ready = (await proc.next((m) => m.type === 'ready', 60_000)) as { id: string; invite: string };
    return new Desk(proc, ready.id, ready.invite, recv);
  }

  async request<T>(cmd: Record<string, unknown>, timeoutMs = 60_000): Promise<T> {
    const req = ++this.#req;
    await this.proc.send({ ...cmd, req } as In);
    const res = (await this.proc.next((m) => m.type === 'result' && m.req === req, timeoutMs)) as Extract<
      Out,
      { type: 'result' }
    >;
    if (res.error !== undefined) throw new Error(`desktop: ${res.error}`);
    return res.value as T;
  }

  verified(direction: string, offerId: string): Promise<unknown> {
    return this.proc.next(
      (m) =>
        m.type === 'state' &&
        m.direction === direction &&
        m.offerId === offerId &&
        m.states.every((s) => s === 'verified'),
      600_000,
    );
  }
}

interface Round {
  stage: 'A' | 'B';
  seconds: number;
  mbps: number;
  cpuSenderS: number;
  cpuReceiverS: number;
  ipcSenderMB: number;
  ipcReceiverMB: number;
  routes: string[];
}

await assertTestbedAvailable();
const tb = await createTestbed({ hosts: ['a', 'b', 'relay'] });
try {
  const { a, b, relay: relayHost } = tb.hosts;
  const relay = await startRelayHost(relayHost);
  const [alice, bob] = await Promise.all([Desk.start(a, relay.url, 'Alice'), Desk.start(b, relay.url, 'Bob')]);
  await alice.request({ cmd: 'add', invite: bob.invite });
  await bob.request({ cmd: 'add', invite: alice.invite });
  const src = tmp('bulk-bench-src');
  const file = randomFile(src, 'file.bin', SIZE);
  const warm = randomFile(src, 'warm.bin', 2 * MiB);
  const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
  // A small file first opens the session (and its TCP path) on both sides; rounds are timed on it.
  const warmId = (
    await alice.request<string[]>({
      cmd: 'sendFile',
      contactId: bob.id,
      path: warm,
      relativePath: 'warm.bin',
      size: 2 * MiB,
    })
  )[0]!;
  await bob.verified('in', warmId);
  await alice.request({ cmd: 'routes' });
  await bob.request({ cmd: 'routes' });

  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS * 2; i++) {
    const stage = i % 2 === 0 ? 'A' : 'B';
    const name = `r${i}-${stage}.bin`;
    const [aIpc, bIpc] = await Promise.all([alice.request<Ipc>({ cmd: 'ipc' }), bob.request<Ipc>({ cmd: 'ipc' })]);
    const cpu0 = [cpuMs(alice.proc.pid), cpuMs(bob.proc.pid)];
    const t0 = performance.now();
    const cmd = stage === 'A' ? 'sendFile' : 'sendPicked';
    const offerId = (
      await alice.request<string[]>({ cmd, contactId: bob.id, path: file, relativePath: name, size: SIZE })
    )[0]!;
    await Promise.all([alice.verified('out', offerId), bob.verified('in', offerId)]);
    const ms = performance.now() - t0;
    const cpu1 = [cpuMs(alice.proc.pid), cpuMs(bob.proc.pid)];
    const [aIpc1, bIpc1] = await Promise.all([alice.request<Ipc>({ cmd: 'ipc' }), bob.request<Ipc>({ cmd: 'ipc' })]);
    const routes = [...new Set((await bob.request<Array<{ route: string }>>({ cmd: 'routes' })).map((r) => r.route))];
    await alice.request({ cmd: 'routes' });
    const got = createHash('sha256')
      .update(readFileSync(join(bob.recv, name)))
      .digest('hex');
    if (got !== sha) throw new Error(`round ${i}: hash mismatch`);
    rmSync(join(bob.recv, name), { force: true });
    const laneBytes = bIpc1.stats.laneBytesReceived - bIpc.stats.laneBytesReceived;
    if ((stage === 'B') !== (laneBytes === SIZE))
      throw new Error(`round ${i}: stage ${stage} moved ${laneBytes} lane bytes`);
    const round: Round = {
      stage,
      seconds: ms / 1000,
      mbps: SIZE / MiB / (ms / 1000),
      cpuSenderS: (cpu1[0]! - cpu0[0]!) / 1000,
      cpuReceiverS: (cpu1[1]! - cpu0[1]!) / 1000,
      ipcSenderMB: (aIpc1.toMain + aIpc1.toRenderer - aIpc.toMain - aIpc.toRenderer) / MiB,
      ipcReceiverMB: (bIpc1.toMain + bIpc1.toRenderer - bIpc.toMain - bIpc.toRenderer) / MiB,
      routes,
    };
    rounds.push(round);
    log(
      `stage ${stage}: ${round.seconds.toFixed(2)} s, ${round.mbps.toFixed(0)} MiB/s, CPU sender ${round.cpuSenderS.toFixed(2)} s receiver ${round.cpuReceiverS.toFixed(2)} s, IPC ${round.ipcSenderMB.toFixed(1)} + ${round.ipcReceiverMB.toFixed(1)} MiB, route ${routes.join('/')}`,
    );
  }
  await Promise.all([alice.request({ cmd: 'close' }).catch(() => {}), bob.request({ cmd: 'close' }).catch(() => {})]);
  await relay.proc.stop();
  const best = (stage: 'A' | 'B') =>
    rounds.filter((r) => r.stage === stage).reduce((x, y) => (y.seconds < x.seconds ? y : x));
  const [A, B] = [best('A'), best('B')];
  console.log(
    JSON.stringify({
      sizeMiB: SIZE / MiB,
      rounds,
      stageA: A,
      stageB: B,
      speedBvsA: B.mbps / A.mbps,
      cpuBvsA: (B.cpuSenderS + B.cpuReceiverS) / (A.cpuSenderS + A.cpuReceiverS),
      note: 'IPC stand-in is in-process: it cannot measure Electron IPC cost',
    }),
  );
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await tb.destroy();
}
