// Test-side handles for transfer-peer.ts running inside test-bed hosts (IPC only), plus file helpers.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TransferInfo, TransferProgress } from '../../../core/src/transfer/index.js';
import type { Host, NodeProcess } from '../../testbed/index.js';
import type { PeerStats, TransferIn, TransferOut, TransferPeerOptions } from './protocol.js';

const PEER_SCRIPT = fileURLToPath(new URL('./transfer-peer.ts', import.meta.url));
const run = promisify(execFile);

type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;
const FINAL = ['done', 'declined', 'cancelled'];

export class TransferPeer {
  #req = 0;

  private constructor(
    readonly proc: NodeProcess<TransferOut, TransferIn>,
    readonly home: string,
    readonly options: TransferPeerOptions,
    readonly id: string,
    readonly invite: string,
    readonly startRss: number,
  ) {}

  /** Starts a peer; pass the `home` of a dead one to restart it with its identity, contacts and transfers. */
  static async spawn(
    host: Host,
    name: string,
    relayUrl: string,
    options: Partial<TransferPeerOptions> = {},
    home?: string,
    env?: Record<string, string>,
  ): Promise<TransferPeer> {
    const dir = home ?? mkdtempSync(join(tmpdir(), `parley-xfer-${name}-`));
    const full: TransferPeerOptions = { recvDir: join(dir, 'received'), ...options };
    const proc = host.spawnNode<TransferOut, TransferIn>(
      PEER_SCRIPT,
      [dir, name, relayUrl, JSON.stringify(full)],
      env ? { env } : {},
    );
    const ready = (await proc.next((m) => m.type === 'ready', 60_000)) as Extract<TransferOut, { type: 'ready' }>;
    return new TransferPeer(proc, dir, full, ready.id, ready.invite, ready.rss);
  }

  get recvDir(): string {
    return this.options.recvDir;
  }

  async request<T = unknown>(cmd: DistributiveOmit<TransferIn, 'req'>, timeoutMs = 60_000): Promise<T> {
    const req = ++this.#req;
    await this.proc.send({ ...cmd, req } as TransferIn);
    const res = (await this.proc.next((m) => m.type === 'result' && m.req === req, timeoutMs)) as Extract<
      TransferOut,
      { type: 'result' }
    >;
    if (res.error !== undefined) throw new Error(`${this.proc.label}: ${res.error}`);
    return res.value as T;
  }

  async add(other: TransferPeer): Promise<void> {
    await this.request({ cmd: 'add', invite: other.invite });
  }

  /** Offers files/folders; returns the offer ids. */
  send(contactId: string, paths: string[]): Promise<string[]> {
    return this.request<string[]>({ cmd: 'send', contactId, paths });
  }

  stats(contactId?: string, resetMaxRss = false): Promise<PeerStats> {
    return this.request<PeerStats>({ cmd: 'stats', ...(contactId ? { contactId } : {}), resetMaxRss });
  }

  list(): Promise<TransferInfo[]> {
    return this.request<TransferInfo[]>({ cmd: 'list' });
  }

  async waitOnline(contactId: string, timeoutMs = 30_000): Promise<void> {
    await this.proc.next((m) => m.type === 'contact' && m.id === contactId && m.online, timeoutMs);
  }

  async waitPath(contactId: string, path: string, timeoutMs = 30_000): Promise<void> {
    const now = await this.stats(contactId);
    if (now.path === path) return;
    await this.proc.next((m) => m.type === 'path' && m.contactId === contactId && m.path === path, timeoutMs);
  }

  /** The first state event of `offerId` matching `predicate` (buffered ones count). */
  async waitState(
    offerId: string,
    predicate: (info: TransferInfo) => boolean,
    timeoutMs = 180_000,
  ): Promise<TransferInfo> {
    const listed = (await this.list()).find((i) => i.offerId === offerId);
    if (listed && predicate(listed)) return listed;
    const m = await this.proc.next(
      (x) => x.type === 'state' && x.info.offerId === offerId && predicate(x.info),
      timeoutMs,
    );
    return (m as Extract<TransferOut, { type: 'state' }>).info;
  }

  /** Resolves when the offer is final here; returns the full info (files included). */
  async waitFinal(offerId: string, timeoutMs = 180_000): Promise<TransferInfo> {
    await this.waitState(offerId, (i) => FINAL.includes(i.state), timeoutMs);
    return (await this.list()).find((i) => i.offerId === offerId)!;
  }

  async waitProgress(predicate: (p: TransferProgress) => boolean, timeoutMs = 120_000): Promise<TransferProgress> {
    const m = await this.proc.next((x) => x.type === 'progress' && predicate(x.progress), timeoutMs);
    return (m as Extract<TransferOut, { type: 'progress' }>).progress;
  }

  async waitError(code: string, timeoutMs = 60_000): Promise<{ code: string; message: string; offerId?: string }> {
    const m = await this.proc.next((x) => x.type === 'error' && x.error.code === code, timeoutMs);
    return (m as Extract<TransferOut, { type: 'error' }>).error;
  }

  /** Kills the process at once (SIGKILL), the way a crash would. */
  async kill(): Promise<void> {
    this.proc.kill('SIGKILL');
    await this.proc.exited;
  }

  async close(): Promise<void> {
    if (!this.proc.alive) return;
    await this.proc.stop(3_000);
  }
}

/** Two peers that know each other, both online at the relay. */
export async function pairPeers(
  a: Host,
  b: Host,
  relayUrl: string,
  options: { a?: Partial<TransferPeerOptions>; b?: Partial<TransferPeerOptions> } = {},
): Promise<[TransferPeer, TransferPeer]> {
  const [pa, pb] = await Promise.all([
    TransferPeer.spawn(a, 'alice', relayUrl, options.a),
    TransferPeer.spawn(b, 'bob', relayUrl, options.b),
  ]);
  await pa.add(pb);
  await pb.add(pa);
  await Promise.all([pa.waitOnline(pb.id), pb.waitOnline(pa.id)]);
  return [pa, pb];
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `parley-xfer-${prefix}-`));
}

/** Writes `bytes` random bytes to a new file; returns its path. */
export function randomFile(dir: string, name: string, bytes: number): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  try {
    for (let left = bytes; left > 0;) {
      const n = Math.min(left, 1024 * 1024);
      writeSync(fd, randomBytes(n));
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A small tmpfs at `dir` (created if needed), for full-disk tests. Root only. */
export async function mountTmpfs(dir: string, sizeMiB: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'parley-test', dir]);
}

export async function resizeTmpfs(dir: string, sizeMiB: number): Promise<void> {
  await run('mount', ['-o', `remount,size=${sizeMiB}m`, dir]);
}

export async function unmount(dir: string): Promise<void> {
  await run('umount', ['-l', dir]).catch(() => undefined);
}
