// What bench:relay and bench:cluster share: the process harness (servers as plain `node -e` on the compiled
// relay, clients under tsx, a tiny RPC over IPC), the relay client (authenticate, pairs, channels), the load
// pumps (signals with a window and sampled latency, 64 KiB channel frames with a byte window), the client-side
// phase handlers (idle connections, loads run in slices), and the alternating-slice measurement.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import {
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  encodeChannelFrame,
  identityIdOf,
  relayAuthStatement,
  signWith,
  toBase64url,
} from '../signaling/protocol/index.js';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const MB = 1024 * 1024;
export const SIGNAL_PAIRS = 32;
export const SIGNAL_WINDOW = 32;
export const CHANNEL_PAIRS = 2;
const FRAME_PAYLOAD = 64 * 1024;
/** Bytes in flight per channel pair, end to end: bounds every queue (a bare forwarder has no backpressure). */
const FRAME_WINDOW = 8 * 1024 * 1024;
export const PHASE_DEADLINE_MS = 60_000;

/** Descriptors a child process may open: the soft limit raised as far as the hard limit allows. */
export const FD_LIMIT = Number(
  spawnSync('bash', ['-c', 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; ulimit -n'], {
    encoding: 'utf8',
  }).stdout.trim(),
);

// ---------------------------------------------------------------- tiny RPC over the IPC channel
type Handler = (args: any) => Promise<unknown> | unknown;

export function serve(handlers: Record<string, Handler>): void {
  process.on('message', (msg: { id: number; cmd: string; args: unknown }) => {
    Promise.resolve()
      .then(() => {
        const handler = handlers[msg.cmd];
        if (!handler) throw new Error(`unknown command ${msg.cmd}`);
        return handler(msg.args);
      })
      .then(
        (result) => process.send!({ id: msg.id, ok: true, result }),
        (err: unknown) =>
          process.send!({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
}

export interface Child {
  proc: ChildProcess;
  call<T>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
}

let nextCallId = 1;
/**
 * A child: `serverCode` as plain `node -e` (what `npm run relay` runs; tsx alone costs ~35 MB RSS), or `self`
 * under tsx with `--role <role>`. A raised fd limit for tens of thousands of sockets; `exec` keeps the IPC fd.
 * BENCH_SERVER_FLAGS: extra node flags for the servers while investigating (e.g. --cpu-prof).
 */
export function launch(self: string, role: string, serverCode?: string): Child {
  const args =
    serverCode !== undefined
      ? `--input-type=module -e '${serverCode.replaceAll("'", "'\\''")}'`
      : `--import tsx "${self}" --role ${role}`;
  const flags = serverCode !== undefined ? (process.env.BENCH_SERVER_FLAGS ?? '') : '';
  const cmd = `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "${process.execPath}" --expose-gc ${flags} ${args}`;
  const proc = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: ROOT });
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  proc.on('message', (msg: { id: number; ok: boolean; result?: unknown; error?: string }) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`${role}: ${msg.error}`));
  });
  proc.on('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`${role} exited (${code ?? signal})`));
    pending.clear();
  });
  return {
    proc,
    call<T>(cmd: string, args?: unknown, timeoutMs = PHASE_DEADLINE_MS): Promise<T> {
      const id = nextCallId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${role} ${cmd}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        proc.send({ id, cmd, args });
      });
    },
  };
}

/** Brings dist/ up to date for the servers (incremental, a few seconds at most). */
export function buildRelay(): void {
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'signaling/server'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (tsc.status !== 0) throw new Error('tsc -b signaling/server failed');
}

/** Asks every child to exit (they exit on disconnect, so --cpu-prof can write) and SIGTERMs any that linger. */
export async function stopChildren(children: readonly Child[]): Promise<void> {
  const gone = (c: Child) => c.proc.exitCode !== null || c.proc.signalCode !== null;
  for (const c of children) if (c.proc.connected) c.proc.disconnect();
  const lingering = setTimeout(() => children.forEach((c) => !gone(c) && c.proc.kill('SIGTERM')), 3_000);
  await Promise.all(children.map((c) => (gone(c) ? null : new Promise((r) => c.proc.once('exit', r)))));
  clearTimeout(lingering);
}

export interface Mem {
  rss: number;
  heapUsed: number;
}

/** Server-side handlers every server child answers (plain JS, for `node -e`); `require` resolves from the repo. */
export const SERVE_JS = `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(ROOT + '/')});
function serve(handlers) {
  process.on('message', (msg) => {
    Promise.resolve()
      .then(() => handlers[msg.cmd](msg.args))
      .then((result) => process.send({ id: msg.id, ok: true, result }), (err) => process.send({ id: msg.id, ok: false, error: String(err && err.message || err) }));
  });
}
const processHandlers = {
  async mem() {
    globalThis.gc(); await new Promise((r) => setTimeout(r, 100)); globalThis.gc();
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed };
  },
  cpu() { const c = process.cpuUsage(); return c.user + c.system; },
};
`;

// ---------------------------------------------------------------- relay client
export interface Identity {
  pub: string;
  id: string;
  privateKey: CryptoKey;
}

export async function newIdentity(): Promise<Identity> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  const pub = toBase64url(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)));
  return { pub, id: await identityIdOf({ alg: 'Ed25519', pub }), privateKey: pair.privateKey };
}

/** The TCP socket under each client WebSocket, to batch a burst of sends into one syscall (cork/uncork). */
const socketOf = new WeakMap<WebSocket, { cork(): void; uncork(): void }>();

export function openSocket(url: string, localAddress?: string): WebSocket {
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    maxPayload: MAX_FRAME_BYTES,
    ...(localAddress ? { localAddress } : {}),
  });
  ws.on('error', () => {}); // a reset surfaces as 'close'; never an uncaught 'error'
  ws.once('upgrade', (res) => socketOf.set(ws, res.socket));
  return ws;
}

/** Runs `sends` with the socket corked: the load generator stays cheap, so the servers are what is measured. */
export function burst(ws: WebSocket, sends: () => void): void {
  const socket = socketOf.get(ws);
  socket?.cork();
  sends();
  socket?.uncork();
}

/** Resolves once `ws` got its first message (listener attached before 'open': the first frame can come with it). */
export function firstMessage(ws: WebSocket): Promise<Buffer> {
  const p = new Promise<Buffer>((resolve, reject) => {
    ws.once('message', (data) => resolve(data as Buffer));
    ws.once('close', (code) => reject(new Error(`closed (${code})`)));
  });
  p.catch(() => undefined); // awaited later; a failure before that must not count as unhandled
  return p;
}

/** Opens a socket and authenticates a fresh identity (challenge → hello → auth → ready). */
export async function connectRelay(
  url: string,
  localAddress?: string,
): Promise<{ ws: WebSocket; id: string; identity: Identity }> {
  const ws = openSocket(url, localAddress);
  const first = firstMessage(ws);
  const identity = await newIdentity();
  const challenge = JSON.parse(String(await first)) as { type: string; nonce: string };
  if (challenge.type !== 'challenge') throw new Error(`expected challenge, got ${challenge.type}`);
  const sig = await signWith(
    'Ed25519',
    identity.privateKey,
    relayAuthStatement(challenge.nonce, identity.id, new URL(url).host),
  );
  const ready = firstMessage(ws);
  ws.send(JSON.stringify({ type: 'hello', v: PROTOCOL_VERSION, alg: 'Ed25519', pub: identity.pub }));
  ws.send(JSON.stringify({ type: 'auth', sig: toBase64url(sig) }));
  const msg = JSON.parse(String(await ready)) as { type: string; code?: string };
  if (msg.type !== 'ready') throw new Error(`handshake: ${msg.type} ${msg.code ?? ''}`);
  return { ws, id: identity.id, identity };
}

export function onText(
  ws: WebSocket,
  pred: (msg: Record<string, unknown>) => boolean,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      reject(new Error('timed out waiting for a relay message'));
    }, timeoutMs);
    function onMessage(data: Buffer, isBinary: boolean): void {
      if (isBinary) return;
      const msg = JSON.parse(String(data)) as Record<string, unknown>;
      if (!pred(msg)) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(msg);
    }
    ws.on('message', onMessage);
  });
}

export interface Pair {
  a: { ws: WebSocket; id: string | null };
  b: { ws: WebSocket; id: string | null };
  channelNum: number;
}

/** Two authenticated relay connections (A on urlA, B on urlB), with a relay channel between them when asked. */
export async function relayPair(urlA: string, urlB: string, key: string, channel: boolean): Promise<Pair> {
  const a = await connectRelay(urlA);
  const b = await connectRelay(urlB);
  let channelNum = 0;
  if (channel) {
    const ra = onText(a.ws, (m) => m.type === 'channel-ready', 10_000);
    const rb = onText(b.ws, (m) => m.type === 'channel-ready', 10_000);
    a.ws.send(JSON.stringify({ type: 'channel-open', to: b.id, tag: key }));
    b.ws.send(JSON.stringify({ type: 'channel-open', to: a.id, tag: key }));
    channelNum = (await ra).channel as number;
    await rb;
  }
  return { a, b, channelNum };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// ---------------------------------------------------------------- loads
export type Mode = 'signals' | 'relay';

interface Load {
  pairs: Pair[];
  /** Senders refill only while active. */
  active: boolean;
  /** Messages or bytes sent and not yet delivered, over all pairs. */
  inflight: number;
  count: number;
  bytes: number;
  errors: number;
  latencies: number[];
  /** Per pair: start (or restart) sending. */
  starters: (() => void)[];
}

/** A sends signals to B with at most `window` in flight; B samples latency from the embedded send time. */
function signalPump(load: Load, a: WebSocket, b: WebSocket, to: string | null, window: number): () => void {
  const prefix = `{"type":"signal","to":"${to ?? 'bare'}","data":{"t":`;
  const suffix =
    ',"kind":"candidate","candidate":"candidate:842163049 1 udp 1677729535 10.99.0.1 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0","sdpMid":"0"}}';
  let inflight = 0;
  const fill = () => {
    while (inflight < window) {
      inflight++;
      load.inflight++;
      a.send(prefix + performance.now().toFixed(3) + suffix);
    }
  };
  b.on('message', (data: Buffer) => {
    inflight--;
    load.inflight--;
    if (data[9] !== 0x73 /* 's' of "signal" */) load.errors++;
    else {
      load.count++;
      if ((load.count & 3) === 0) {
        const i = data.indexOf('"t":');
        load.latencies.push(performance.now() - Number.parseFloat(data.toString('latin1', i + 4, i + 24)));
      }
    }
    if (load.active && inflight <= window / 2) burst(a, fill);
  });
  return () => burst(a, fill);
}

/** A pushes 64 KiB frames with at most FRAME_WINDOW bytes in flight end to end; B counts payload bytes. */
function framePump(load: Load, a: WebSocket, b: WebSocket, channel: number): () => void {
  const frame = Buffer.from(encodeChannelFrame(channel || 1, new Uint8Array(FRAME_PAYLOAD).fill(7)));
  let inflight = 0;
  const fill = () => {
    while (inflight < FRAME_WINDOW) {
      a.send(frame, { binary: true });
      inflight += frame.length;
      load.inflight += frame.length;
    }
  };
  b.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    inflight -= data.length;
    load.inflight -= data.length;
    load.bytes += data.length - 4;
    if (load.active && inflight <= FRAME_WINDOW / 2) burst(a, fill);
  });
  return () => burst(a, fill);
}

export interface IdleArgs {
  count: number;
  localAddresses: string[];
  concurrency: number;
}

export interface LoadArgs {
  key: string;
  mode: Mode;
  pairs: number;
}

/**
 * The client role's phase handlers: `idle` opens connections with `connect(args, n)` and holds them,
 * `loadStart` makes pairs with `pair(args, i)` and readies a load, `slice` runs it, `loadStop` reports latency.
 */
export function clientPhaseHandlers<I extends IdleArgs, L extends LoadArgs>(
  connect: (args: I, n: number) => Promise<{ ws: WebSocket }>,
  pair: (args: L, i: number) => Promise<Pair>,
): Record<string, Handler> {
  const idle: WebSocket[] = [];
  const loads = new Map<string, Load>();
  return {
    async idle(args: I) {
      const started = performance.now();
      let failed = 0;
      const reasons = new Map<string, number>();
      let next = 0;
      const deadline = started + PHASE_DEADLINE_MS - 5_000;
      async function worker(): Promise<void> {
        while (next < args.count && performance.now() < deadline) {
          const n = next++;
          try {
            idle.push((await connect(args, n)).ws);
          } catch (err) {
            failed++;
            const reason = err instanceof Error ? err.message : String(err);
            reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
          }
        }
      }
      await Promise.all(Array.from({ length: args.concurrency }, worker));
      return { opened: idle.length, failed, reasons: Object.fromEntries(reasons), ms: performance.now() - started };
    },
    async closeIdle() {
      const all = idle.splice(0);
      await Promise.all(
        all.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === WebSocket.CLOSED) return resolve();
              ws.once('close', () => resolve());
              ws.terminate();
            }),
        ),
      );
      return all.length;
    },
    /** Sets up pairs for one load, idle until a slice runs it. */
    async loadStart(args: L) {
      const channels = args.mode === 'relay';
      const pairs = await Promise.all(Array.from({ length: args.pairs }, (_, i) => pair(args, i)));
      const load: Load = {
        pairs,
        active: false,
        inflight: 0,
        count: 0,
        bytes: 0,
        errors: 0,
        latencies: [],
        starters: [],
      };
      for (const { a, b, channelNum } of pairs) {
        a.ws.on('message', (_data: Buffer, isBinary: boolean) => {
          if (!isBinary) load.errors++; // the relay answers the sender only with errors
        });
        load.starters.push(
          channels ? framePump(load, a.ws, b.ws, channelNum) : signalPump(load, a.ws, b.ws, b.id, SIGNAL_WINDOW),
        );
      }
      loads.set(args.key, load);
      return pairs.length;
    },
    /** Runs one load for `ms`, then lets what is in flight arrive; reports what was delivered. */
    async slice(args: { key: string; ms: number; warmup?: boolean }) {
      const load = loads.get(args.key)!;
      load.count = 0;
      load.bytes = 0;
      const t0 = performance.now();
      load.active = true;
      for (const start of load.starters) start();
      await new Promise((r) => setTimeout(r, args.ms));
      load.active = false;
      const drainDeadline = performance.now() + 5_000;
      while (load.inflight > 0 && performance.now() < drainDeadline) await new Promise((r) => setTimeout(r, 2));
      if (args.warmup) load.latencies = [];
      return { seconds: (performance.now() - t0) / 1000, count: load.count, bytes: load.bytes };
    },
    loadStop(args: { key: string }) {
      const load = loads.get(args.key)!;
      loads.delete(args.key);
      for (const { a, b } of load.pairs) {
        a.ws.terminate();
        b.ws.terminate();
      }
      load.latencies.sort((x, y) => x - y);
      return { p50: percentile(load.latencies, 50), p99: percentile(load.latencies, 99), errors: load.errors };
    },
  };
}

// ---------------------------------------------------------------- alternating slices
/** One side of a comparison: a load (already set up by loadStart under `key`) and the servers that carry it. */
export interface Side {
  readonly key: string;
  readonly procs: readonly Child[];
}

export interface SideTotals {
  seconds: number;
  count: number;
  bytes: number;
  /** CPU seconds per server of the side, in `procs` order. */
  cpu: number[];
  /** Work (messages, or MB for relay frames) per CPU-second of all the side's servers, one per slice. */
  perCoreSlices: number[];
  p50: number;
  p99: number;
  errors: number;
}

/**
 * Runs the sides' loads in alternating short slices (ABBA...) after a warm-up each, so neighbours' load on a
 * shared machine hits every side alike; each slice ends only when everything sent has arrived. Stops the loads.
 */
export async function alternateSlices(
  client: Child,
  mode: Mode,
  sides: readonly Side[],
  o: { slices: number; sliceMs: number; warmupMs: number },
): Promise<SideTotals[]> {
  for (const side of sides) await client.call('slice', { key: side.key, ms: o.warmupMs, warmup: true });
  const totals: SideTotals[] = sides.map((s) => ({
    seconds: 0,
    count: 0,
    bytes: 0,
    cpu: s.procs.map(() => 0),
    perCoreSlices: [],
    p50: NaN,
    p99: NaN,
    errors: 0,
  }));
  const order = sides.map((_, i) => i);
  for (let i = 0; i < o.slices; i++) {
    for (const k of i % 2 === 0 ? order : [...order].reverse()) {
      const { key, procs } = sides[k]!;
      const t = totals[k]!;
      const cpu0 = await Promise.all(procs.map((p) => p.call<number>('cpu')));
      const r = await client.call<{ seconds: number; count: number; bytes: number }>('slice', {
        key,
        ms: o.sliceMs,
      });
      const cpu1 = await Promise.all(procs.map((p) => p.call<number>('cpu')));
      let cpu = 0;
      procs.forEach((_, j) => {
        const used = (cpu1[j]! - cpu0[j]!) / 1e6;
        t.cpu[j]! += used;
        cpu += used;
      });
      t.seconds += r.seconds;
      t.count += r.count;
      t.bytes += r.bytes;
      t.perCoreSlices.push((mode === 'signals' ? r.count : r.bytes / 1e6) / cpu);
    }
  }
  for (const [k, side] of sides.entries()) {
    Object.assign(totals[k]!, await client.call<{ p50: number; p99: number; errors: number }>('loadStop', side));
  }
  return totals;
}

// ---------------------------------------------------------------- report
/** A figure with `d` decimals, or n/a when it was not measured. */
export const fmt = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

/** What both benches report for a signal or channel load. */
export interface LoadFigures {
  msgsPerSec: number;
  mbPerSec: number;
  p50: number;
  p99: number;
}

/** The rows both benches print for signals (rate, latency) and relay channels (rate), left against right. */
export function loadRows(signals: [LoadFigures, LoadFigures], channels: [LoadFigures, LoadFigures]) {
  const [sa, sb] = signals;
  return {
    signals: [
      [
        `signals (${SIGNAL_PAIRS} pairs × ${SIGNAL_WINDOW} in flight): msgs/s`,
        fmt(sa.msgsPerSec, 0),
        fmt(sb.msgsPerSec, 0),
      ],
      ['  latency p50 / p99 (ms)', `${fmt(sa.p50, 2)} / ${fmt(sa.p99, 2)}`, `${fmt(sb.p50, 2)} / ${fmt(sb.p99, 2)}`],
    ] as [string, string, string][],
    channels: [
      `relay channel, 64 KiB frames (${CHANNEL_PAIRS} pairs): MB/s`,
      fmt(channels[0].mbPerSec),
      fmt(channels[1].mbPerSec),
    ] as [string, string, string],
  };
}

/** Prints rows [measure, left, right] under the two column headings. */
export function printTable(left: string, right: string, rows: readonly [string, string, string][]): void {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(left.length, ...rows.map((r) => r[1].length));
  console.log(`\n${'measure'.padEnd(w0)}  ${left.padEnd(w1)}  ${right}`);
  console.log(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}  ${'-'.repeat(20)}`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
}
