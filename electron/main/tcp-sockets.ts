// The desktop app's direct TCP path (core/src/session/tcp-path.ts): the sockets live here, in the main
// process, and the renderer (where the session runs) drives them over validated IPC (ParleyBridge.tcp).
// Listening and connecting are the CLI's own (platform/node/src/tcp: interface addresses only, never a
// wildcard, an ephemeral port, length-framed records with keepalive and idle timeout); the record layer and
// its handshake stay in the renderer's session, so main only moves opaque sealed records.
// The renderer is untrusted: handles are opaque and valid only for the webContents that made them, records
// are bounded in size, hints must name a unicast, non-loopback address and an unprivileged port, a
// listener closes by itself after a deadline, and everything a webContents held goes when it goes.
// Backpressure both ways: a send resolves only once main's socket buffer is at its low-water mark again (the
// renderer counts unresolved sends as buffered), and a socket whose renderer stops consuming (acking) what
// it received is closed rather than buffered without end.
// Main cannot tell a hint the contact signed from one a compromised renderer made up (the keys live in the
// renderer), so connecting has a budget per window: enough for every contact's attempt at start-up, too
// little to sweep a LAN's ports with length-prefixed bytes. It survives reloads (same webContents).
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import { MAX_TCP_HINTS, TcpHintSchema, type TcpListener, type TcpPlatform } from '../../core/src/session/tcp-path.js';
import type { RecordSocket } from '../../core/src/session/transport.js';
import { MAX_TCP_RECORD_BYTES, TcpChannel, type TcpEventMessage } from '../shared/ipc-contract.js';
import { TokenBucket } from '../../signaling/server/token-bucket.js';
import type { ValidatedIpc } from './ipc.js';

export const MAX_TCP_LISTENERS_PER_OWNER = 4;
export const MAX_TCP_SOCKETS_PER_OWNER = 32;
/** A listener closes after this even if the renderer never closes it (the session's wait is 15 s). */
export const TCP_LISTEN_MAX_MS = 60_000;
/** Longest connect wait a renderer may ask for. */
export const TCP_CONNECT_MAX_MS = 30_000;
/** Received bytes handed to the renderer and not acked; past this the socket is closed. */
export const TCP_MAX_UNACKED_BYTES = 32 * 1024 * 1024;
/** Bytes queued in main's socket past which a send is refused (the renderer ignored backpressure). */
export const TCP_MAX_QUEUED_BYTES = 32 * 1024 * 1024;
/** Addresses a window may try to connect to: this many at once, then this many per second. */
export const TCP_CONNECT_BUDGET = { burst: 128, perSecond: 2 } as const;
/** At or below this many queued bytes a send resolves at once. */
export const TCP_LOW_WATER_BYTES = 256 * 1024;

export class TcpSocketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TcpSocketError';
  }
}

interface SocketEntry {
  owner: number;
  socket: RecordSocket;
  started: boolean;
  /** Received bytes handed to the renderer and not acked yet. */
  unacked: number;
  /** Sends waiting for the socket's buffer to drain. */
  waiting: Array<{ resolve: () => void; reject: (e: Error) => void }>;
  offs: Array<() => void>;
}

interface ListenerEntry {
  owner: number;
  listener: TcpListener;
  timer: ReturnType<typeof setTimeout>;
}

export interface TcpSocketsOptions {
  /** nodeTcp() in the app. */
  platform: TcpPlatform;
  /** Sends one event to the webContents `owner` (dropped if it is gone). */
  emit(owner: number, event: TcpEventMessage): void;
  newHandle?: () => string;
  listenMaxMs?: number;
  maxUnackedBytes?: number;
  maxQueuedBytes?: number;
  /** Which hints may be connected to (default hintProblem; tests allow loopback). */
  hintPolicy?: (host: string, port: number) => string | null;
  /** Connect budget per window, in hint addresses (default TCP_CONNECT_BUDGET). */
  connectBudget?: { burst: number; perSecond: number };
  /** Monotonic milliseconds (for the budget). */
  now?: () => number;
}

/** Why a hint may not be connected to (null: fine). Hints come from the contact, through an untrusted renderer. */
export function hintProblem(host: string, port: number): string | null {
  if (port < 1024) return 'a privileged port';
  const v = isIP(host);
  if (v === 4) {
    const [a = 0, b = 0] = host.split('.').map(Number);
    if (a === 0 || a === 127 || a >= 224) return 'not a unicast address';
    if (a === 169 && b === 254) return 'a link-local address';
    return null;
  }
  if (v === 6) {
    const h = host.toLowerCase();
    if (h === '::' || h === '::1' || h.startsWith('ff') || /^fe[89ab]/.test(h)) return 'not a routable unicast address';
    if (h.startsWith('::ffff:')) return hintProblem(h.slice(7), port);
    return null;
  }
  return 'not an IP address';
}

export class TcpSockets {
  private readonly platform: TcpPlatform;
  private readonly emit: (owner: number, event: TcpEventMessage) => void;
  private readonly newHandle: () => string;
  private readonly listenMaxMs: number;
  private readonly maxUnacked: number;
  private readonly maxQueued: number;
  private readonly hintPolicy: (host: string, port: number) => string | null;
  private readonly sockets = new Map<string, SocketEntry>();
  private readonly listeners = new Map<string, ListenerEntry>();
  /** Connects under way per owner (they count against the socket limit). */
  private readonly connecting = new Map<number, number>();
  /** Connect budget per owner, kept across releases: a reload does not refill it. */
  private readonly budgets = new Map<number, TokenBucket>();
  private readonly connectBudget: { burst: number; perSecond: number };
  private readonly now: () => number;
  /** Bumped when an owner is released: a connect that finishes after that is dropped. */
  private readonly epochs = new Map<number, number>();

  constructor(options: TcpSocketsOptions) {
    this.platform = options.platform;
    this.emit = options.emit;
    this.newHandle = options.newHandle ?? randomUUID;
    this.listenMaxMs = options.listenMaxMs ?? TCP_LISTEN_MAX_MS;
    this.maxUnacked = options.maxUnackedBytes ?? TCP_MAX_UNACKED_BYTES;
    this.maxQueued = options.maxQueuedBytes ?? TCP_MAX_QUEUED_BYTES;
    this.hintPolicy = options.hintPolicy ?? hintProblem;
    this.connectBudget = options.connectBudget ?? TCP_CONNECT_BUDGET;
    this.now = options.now ?? (() => performance.now());
  }

  count(owner?: number): { sockets: number; listeners: number } {
    let sockets = 0;
    let listeners = 0;
    for (const e of this.sockets.values()) if (owner === undefined || e.owner === owner) sockets++;
    for (const e of this.listeners.values()) if (owner === undefined || e.owner === owner) listeners++;
    return { sockets, listeners };
  }

  async listen(owner: number): Promise<{ listener: string; hints: Array<{ host: string; port: number }> }> {
    if (this.count(owner).listeners >= MAX_TCP_LISTENERS_PER_OWNER)
      throw new TcpSocketError(`too many TCP listeners (${MAX_TCP_LISTENERS_PER_OWNER})`);
    const epoch = this.epochs.get(owner) ?? 0;
    const listener = await this.platform.listen();
    if ((this.epochs.get(owner) ?? 0) !== epoch) {
      // The webContents went while main was starting to listen.
      listener.close();
      throw new TcpSocketError('the window went away');
    }
    const handle = this.newHandle();
    const timer = setTimeout(() => this.closeListener(owner, handle), this.listenMaxMs);
    timer.unref?.();
    this.listeners.set(handle, { owner, listener, timer });
    listener.onConnection((socket) => {
      if (!this.listeners.has(handle) || this.socketCount(owner) >= MAX_TCP_SOCKETS_PER_OWNER) {
        socket.close();
        return;
      }
      const id = this.add(owner, socket);
      const remote = (socket as { remoteAddress?: unknown }).remoteAddress;
      this.emit(owner, {
        kind: 'accept',
        listener: handle,
        socket: id,
        remote: typeof remote === 'string' ? remote : '',
      });
    });
    return { listener: handle, hints: listener.hints.map((h) => ({ host: h.host, port: h.port })) };
  }

  closeListener(owner: number, handle: string): void {
    const e = this.listeners.get(handle);
    if (!e || e.owner !== owner) throw new TcpSocketError('unknown TCP listener');
    this.listeners.delete(handle);
    clearTimeout(e.timer);
    e.listener.close();
  }

  async connect(
    owner: number,
    hints: ReadonlyArray<{ host: string; port: number }>,
    timeoutMs: number,
  ): Promise<string> {
    // A contact's list may hold a hint main will not connect to (an older peer's link-local address):
    // the others still get their chance; only a list with nothing usable is refused.
    const checked = hints.map((h) => ({ ...h, problem: this.hintPolicy(h.host, h.port) }));
    const usable = checked.filter((h) => h.problem === null).map(({ host, port }) => ({ host, port }));
    const first = checked[0];
    if (usable.length === 0)
      throw new TcpSocketError(
        first ? `refused TCP hint ${first.host}:${first.port}: ${first.problem ?? ''}` : 'no TCP hints',
      );
    if (this.socketCount(owner) >= MAX_TCP_SOCKETS_PER_OWNER)
      throw new TcpSocketError(`too many TCP connections (${MAX_TCP_SOCKETS_PER_OWNER})`);
    if (!this.spendConnectBudget(owner, usable.length))
      throw new TcpSocketError('too many TCP connection attempts from this window; try again in a moment');
    this.connecting.set(owner, (this.connecting.get(owner) ?? 0) + 1);
    const epoch = this.epochs.get(owner) ?? 0;
    let socket: RecordSocket;
    try {
      socket = await this.platform.connect(usable, timeoutMs);
    } finally {
      const n = (this.connecting.get(owner) ?? 1) - 1;
      if (n > 0) this.connecting.set(owner, n);
      else this.connecting.delete(owner);
    }
    if ((this.epochs.get(owner) ?? 0) !== epoch) {
      // The webContents went while the connection was being made.
      socket.close();
      throw new TcpSocketError('the window went away');
    }
    return this.add(owner, socket);
  }

  /** The renderer holds the socket: its records flow from now on (the socket keeps earlier ones until then). */
  start(owner: number, handle: string): void {
    const e = this.get(owner, handle);
    if (e.started) return;
    e.started = true;
    e.offs.push(
      e.socket.onFrame((frame) => {
        // A copy of exactly the record: IPC would clone the whole buffer a view points into.
        const data = frame.slice();
        e.socket.release?.(frame);
        e.unacked += data.byteLength;
        if (e.unacked > this.maxUnacked) {
          this.drop(handle, `the window fell ${e.unacked} bytes behind the TCP connection`);
          return;
        }
        this.emit(e.owner, { kind: 'frame', socket: handle, data });
      }),
    );
  }

  /** Resolves once main's buffer for the socket is at its low-water mark (backpressure for the renderer). */
  send(owner: number, handle: string, data: Uint8Array): Promise<void> {
    const e = this.get(owner, handle);
    if (e.socket.closed) return Promise.reject(new TcpSocketError('the TCP connection is closed'));
    if (e.socket.bufferedAmount > this.maxQueued) {
      this.drop(handle, 'the window sent past backpressure');
      return Promise.reject(new TcpSocketError('too much queued on the TCP connection'));
    }
    try {
      if (e.socket.sendParts) e.socket.sendParts([data]);
      else e.socket.send(data);
    } catch (error) {
      return Promise.reject(new TcpSocketError(error instanceof Error ? error.message : String(error)));
    }
    if (e.socket.bufferedAmount <= TCP_LOW_WATER_BYTES) return Promise.resolve();
    return new Promise((resolve, reject) => e.waiting.push({ resolve, reject }));
  }

  ack(owner: number, handle: string, bytes: number): void {
    const e = this.sockets.get(handle);
    // An ack racing the close is not an error.
    if (!e || e.owner !== owner) return;
    e.unacked = Math.max(0, e.unacked - bytes);
  }

  close(owner: number, handle: string): void {
    const e = this.sockets.get(handle);

    if (!e || e.owner !== owner) return; // closed from both ends at once: fine
    this.remove(handle, e, 'closed by the window');
    e.socket.close();
  }

  /** The webContents went away (closed, crashed, reloaded): everything it held goes. */
  releaseOwner(owner: number): void {
    this.epochs.set(owner, (this.epochs.get(owner) ?? 0) + 1);
    for (const [h, e] of [...this.listeners]) if (e.owner === owner) this.closeListener(owner, h);
    for (const [h, e] of [...this.sockets]) if (e.owner === owner) this.close(owner, h);
  }

  releaseAll(): void {
    const owners = new Set([...this.sockets.values(), ...this.listeners.values()].map((e) => e.owner));
    for (const o of owners) this.releaseOwner(o);
  }

  /** One token per address; a refused attempt keeps what it took (the addresses were asked for). */
  private spendConnectBudget(owner: number, addresses: number): boolean {
    let bucket = this.budgets.get(owner);
    if (!bucket) {
      bucket = new TokenBucket(this.connectBudget.perSecond, this.connectBudget.burst, this.now());
      this.budgets.set(owner, bucket);
    }
    for (let i = 0; i < addresses; i++) if (!bucket.take(this.now())) return false;
    return true;
  }

  private socketCount(owner: number): number {
    return this.count(owner).sockets + (this.connecting.get(owner) ?? 0);
  }

  private add(owner: number, socket: RecordSocket): string {
    const handle = this.newHandle();
    const e: SocketEntry = { owner, socket, started: false, unacked: 0, waiting: [], offs: [] };
    this.sockets.set(handle, e);
    e.offs.push(
      socket.onDrain(() => {
        for (const w of e.waiting.splice(0)) w.resolve();
      }),
      socket.onClose((reason) => {
        if (this.sockets.get(handle) !== e) return;
        this.remove(handle, e, reason);
        this.emit(owner, { kind: 'close', socket: handle, reason });
      }),
    );
    return handle;
  }

  private drop(handle: string, reason: string): void {
    const e = this.sockets.get(handle);
    if (!e) return;
    this.remove(handle, e, reason);
    e.socket.close();
    this.emit(e.owner, { kind: 'close', socket: handle, reason });
  }

  private remove(handle: string, e: SocketEntry, reason: string): void {
    this.sockets.delete(handle);
    for (const off of e.offs.splice(0)) off();
    for (const w of e.waiting.splice(0)) w.reject(new TcpSocketError(`the TCP connection closed: ${reason}`));
  }

  private get(owner: number, handle: string): SocketEntry {
    const e = this.sockets.get(handle);
    // Another window's handle is reported exactly like a made-up one.
    if (!e || e.owner !== owner) throw new TcpSocketError('unknown TCP socket');
    return e;
  }
}

const handleSchema = z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'not a TCP handle');

export const tcpSchemas = {
  none: z.tuple([]),
  handle: z.tuple([handleSchema]),
  connect: z.tuple([
    z.array(z.strictObject(TcpHintSchema.shape)).min(1).max(MAX_TCP_HINTS),
    z.int().min(1).max(TCP_CONNECT_MAX_MS),
  ]),
  send: z.tuple([
    handleSchema,
    z.instanceof(Uint8Array).refine((b) => b.byteLength > 0 && b.byteLength <= MAX_TCP_RECORD_BYTES, {
      message: `a record must be 1..${MAX_TCP_RECORD_BYTES} bytes`,
    }),
  ]),
  ack: z.tuple([
    handleSchema,
    z
      .int()
      .min(1)
      .max(TCP_MAX_UNACKED_BYTES * 2),
  ]),
};

export function registerTcpIpc(ipc: ValidatedIpc, sockets: TcpSockets): void {
  ipc.handle(TcpChannel.Listen, tcpSchemas.none, ({ sender }) => sockets.listen(sender.id));
  ipc.handle(TcpChannel.CloseListener, tcpSchemas.handle, ({ sender }, handle) =>
    sockets.closeListener(sender.id, handle),
  );
  ipc.handle(TcpChannel.Connect, tcpSchemas.connect, async ({ sender }, hints, timeoutMs) => ({
    socket: await sockets.connect(sender.id, hints, timeoutMs),
  }));
  ipc.handle(TcpChannel.Start, tcpSchemas.handle, ({ sender }, handle) => sockets.start(sender.id, handle));
  ipc.handle(TcpChannel.Send, tcpSchemas.send, ({ sender }, handle, data) => sockets.send(sender.id, handle, data));
  ipc.handle(TcpChannel.Ack, tcpSchemas.ack, ({ sender }, handle, bytes) => sockets.ack(sender.id, handle, bytes));
  ipc.handle(TcpChannel.Close, tcpSchemas.handle, ({ sender }, handle) => sockets.close(sender.id, handle));
}
