// Two (or more) transfer engines over in-memory links, with helpers to wait for events.
import { createHash } from 'node:crypto';
import {
  TransferEngine,
  type TransferEngineOptions,
  type TransferEventMap,
  type TransferInfo,
} from '../../../../core/src/transfer/index.js';
import { memoryLink, type MemoryLink, type MemoryLinkOptions } from './memory-link.js';
import { MemoryDisk, MemoryKV, MemorySources } from './memory-io.js';

export interface Peer {
  id: string;
  engine: TransferEngine;
  kv: MemoryKV;
  disk: MemoryDisk;
  sources: MemorySources;
  errors: TransferEventMap['error'][];
}

export type PeerOptions = Partial<Omit<TransferEngineOptions, 'store' | 'source' | 'sink'>> & {
  kv?: MemoryKV;
  disk?: MemoryDisk;
  sources?: MemorySources;
};

export async function createPeer(id: string, options: PeerOptions = {}): Promise<Peer> {
  const kv = options.kv ?? new MemoryKV();
  const disk = options.disk ?? new MemoryDisk();
  const sources = options.sources ?? new MemorySources();
  const { kv: _kv, disk: _disk, sources: _sources, ...rest } = options;
  const engine = new TransferEngine({
    isKnownContact: () => true,
    decide: () => 'accept',
    progressIntervalMs: 0,
    ...rest,
    store: kv.view(),
    source: sources,
    sink: disk,
  });
  await engine.start();
  const errors: TransferEventMap['error'][] = [];
  engine.on('error', (e) => errors.push(e));
  return { id, engine, kv, disk, sources, errors };
}

/** Simulates the process dying: its engine is dropped, its disk and store keep what they had. */
/**
 * Simulates the process dying: its engine is dropped, its disk and store keep what they had.
 * 'power-loss' drops unflushed bytes; 'garbage' keeps every partial's length but zeroes what lies past
 * its recorded checkpoint (what some file systems leave after a power cut).
 */
export async function restart(
  peer: Peer,
  options: PeerOptions & { crash?: 'kill' | 'power-loss' | 'garbage' } = {},
): Promise<Peer> {
  const { crash, ...rest } = options;
  peer.kv.crash();
  peer.disk.crash(crash === 'power-loss' ? 'power-loss' : 'kill');
  if (crash === 'garbage') {
    const checkpoint = Math.max(
      0,
      ...[...peer.kv.data]
        .filter(([k]) => k.includes('/f/'))
        .map(([, v]) => (JSON.parse(v) as { hash?: { offset: number } }).hash?.offset ?? 0),
    );
    for (const name of peer.disk.partials()) {
      const file = peer.disk.files.get(name)!;
      file.data.fill(0, checkpoint, file.length);
    }
  }
  return createPeer(peer.id, { ...rest, kv: peer.kv, disk: peer.disk, sources: peer.sources });
}

export interface Connection {
  link: MemoryLink;
  /** Cuts the link (frames in flight lost) and detaches both engines. */
  cut(): void;
  /** Cuts the link as `dying` crashes: only the other side sees the link go (the dying one gets no detach). */
  crash(dying: Peer): void;
}

export function connect(a: Peer, b: Peer, options: MemoryLinkOptions = {}): Connection {
  const link = memoryLink(options);
  const detachA = a.engine.attach(b.id, link.a);
  const detachB = b.engine.attach(a.id, link.b);
  return {
    link,
    cut() {
      link.cut();
      detachA();
      detachB();
    },
    crash(dying) {
      link.cut();
      if (dying === a) detachB();
      else detachA();
    },
  };
}

/** Resolves with the first event matching `predicate`. */
export function waitFor<K extends keyof TransferEventMap>(
  engine: TransferEngine,
  event: K,
  predicate: (payload: TransferEventMap[K]) => boolean = () => true,
): Promise<TransferEventMap[K]> {
  return new Promise((resolve) => {
    const off = engine.on(event, (payload) => {
      if (predicate(payload)) {
        off();
        resolve(payload);
      }
    });
  });
}

/** Resolves when offer `offerId` on `engine` reaches a final state (done, declined, cancelled). */
export function settled(engine: TransferEngine, offerId: string): Promise<TransferInfo> {
  const now = engine.get(offerId);
  if (now && ['done', 'declined', 'cancelled'].includes(now.state)) return Promise.resolve(now);
  return waitFor(engine, 'state', (s) => s.offerId === offerId && ['done', 'declined', 'cancelled'].includes(s.state));
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
