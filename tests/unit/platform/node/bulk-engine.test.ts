// The transfer engine with bulk lanes (core's lane messages, platform/node/src/bulk's nodeBulk): two engines
// on an in-memory session stream that says it runs over TCP, real files on disk, real loopback lanes. The
// file's bytes go on the lane, not the stream; a cut lane finishes over the stream with the same digest;
// a peer without lanes, and a session that is not on TCP, keep the stream.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BulkPlatform } from '../../../../core/src/transfer/bulk-platform.js';
import type { FileSource, SourceFile } from '../../../../core/src/transfer/io.js';
import { TransferEngine, type FrameStream } from '../../../../core/src/transfer/index.js';
import { nodeBulk } from '../../../../platform/node/src/bulk/platform.js';
import { NodeFileSink, NodeFileSource } from '../../../../platform/node/src/file-io.js';
import { nodeBlockHash } from '../../../../platform/node/src/hash.js';
import { nodeTcp } from '../../../../platform/node/src/tcp/index.js';
import { MemoryKV } from '../../core/transfer/memory-io.js';
import { memoryLink, type MemoryStream } from '../../core/transfer/memory-link.js';
import { settled } from '../../core/transfer/harness.js';

const tcp = nodeTcp({ addresses: () => ['127.0.0.1'] });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The memory stream, reporting the route a session over TCP reports (or `route`). */
function onRoute(s: MemoryStream, route = 'tcp'): FrameStream {
  return {
    send: (p) => s.send(p),
    onFrame: (h) => s.onFrame(h),
    onReset: (h) => s.onReset(h),
    path: () => s.path(),
    route: () => (s.closed ? 'none' : route),
  };
}

async function engine(
  dir: string,
  bulk: BulkPlatform | undefined,
  source: FileSource = new NodeFileSource(),
): Promise<TransferEngine> {
  const e = new TransferEngine({
    store: new MemoryKV().view(),
    source,
    sink: new NodeFileSink(dir, { sync: false }),
    isKnownContact: () => true,
    decide: () => 'accept',
    progressIntervalMs: 0,
    blockHash: nodeBlockHash,
    ...(bulk ? { bulk } : {}),
  });
  await e.start();
  cleanups.push(() => e.close());
  return e;
}

async function world(
  size: number,
  options: {
    senderBulk?: BulkPlatform | null;
    receiverBulk?: BulkPlatform | null;
    route?: string;
    /** What the sender's engine reads the file through (its platform reads on its own). */
    senderSource?: FileSource;
  } = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'parley-bulk-engine-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const data = randomBytes(size);
  const path = join(dir, 'big.bin');
  await writeFile(path, data);
  const sha = createHash('sha256').update(data).digest('hex');
  const sender = await engine(
    join(dir, 'a'),
    options.senderBulk === null ? undefined : (options.senderBulk ?? nodeBulk({ tcp })),
    options.senderSource,
  );
  const receiver = await engine(
    join(dir, 'b'),
    options.receiverBulk === null ? undefined : (options.receiverBulk ?? nodeBulk({ tcp })),
  );
  const link = memoryLink({ windowBytes: 4 * 1024 * 1024 });
  sender.attach('bob', onRoute(link.a, options.route));
  receiver.attach('alice', onRoute(link.b, options.route));
  const [offer] = await sender.send('bob', [{ relativePath: 'big.bin', source: path, size }]);
  return { dir, sha, sender, receiver, offerId: offer!.offerId, link };
}

/** nodeBulk as the receiver's platform, its lane's connection cut once `at` bytes are written; `cut` says if it was. */
function cuttingAt(at: number): BulkPlatform & { readonly cut: boolean } {
  const real = nodeBulk({ tcp });
  let cut = false;
  return {
    get cut() {
      return cut;
    },
    send: (r) => real.send(r),
    async receive(request) {
      let receiving: Awaited<ReturnType<BulkPlatform['receive']>> | undefined = undefined;
      receiving = await real.receive({
        ...request,
        onWritten: (offset) => {
          request.onWritten(offset);
          if (!cut && offset >= at) {
            cut = true;
            receiving!.cancel();
          }
        },
      });
      return receiving;
    },
  };
}

/** NodeFileSource, counting the bytes read through it. */
function countingSource(): FileSource & { bytesRead: number } {
  const files = new NodeFileSource();
  const self = {
    bytesRead: 0,
    async open(path: string): Promise<SourceFile> {
      const file = await files.open(path);
      const count = (data: Uint8Array, headroom = 0) => {
        self.bytesRead += data.length - headroom;
        return data;
      };
      return {
        ...file,
        read: async (offset, length) => count(await file.read(offset, length)),
        readFramed: async (offset, length, headroom) =>
          count(await file.readFramed!(offset, length, headroom), headroom),
      };
    },
  };
  return self;
}

async function received(dir: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(join(dir, 'b', 'big.bin')))
    .digest('hex');
}

describe('transfer engine on bulk lanes', () => {
  it('moves a 48 MiB file on the lane: the stream carries control only, the digest checks, the file is saved', async () => {
    const size = 48 * 1024 * 1024;
    const w = await world(size);
    const [out, inc] = await Promise.all([settled(w.sender, w.offerId), settled(w.receiver, w.offerId)]);
    expect(out.state).toBe('done');
    expect(inc.state).toBe('done');
    expect(inc.files[0]!.state).toBe('verified');
    expect(await received(w.dir)).toBe(w.sha);
    // Every byte on the lane, none on the session stream (its frames were control messages only).
    expect(w.sender.stats.laneBytesSent).toBe(size);
    expect(w.receiver.stats.laneBytesReceived).toBe(size);
    expect(w.sender.stats.chunkBytesSent).toBe(0);
    expect(w.receiver.stats.chunkBytesReceived).toBe(0);
    expect(w.link.a.framesSent).toBeLessThan(20);
  });

  it('a lane cut mid-file: the rest goes over the stream from the digest boundary, same file', async () => {
    const size = 24 * 1024 * 1024 + 777;
    const receiverBulk = cuttingAt(6 * 1024 * 1024);
    const w = await world(size, { receiverBulk });
    const [out, inc] = await Promise.all([settled(w.sender, w.offerId), settled(w.receiver, w.offerId)]);
    expect(receiverBulk.cut).toBe(true);
    expect(out.state).toBe('done');
    expect(inc.files[0]!.state).toBe('verified');
    expect(await received(w.dir)).toBe(w.sha);
    expect((await stat(join(w.dir, 'b', 'big.bin'))).size).toBe(size);
    // Part on the lane, the rest on the stream; at most one digest block (1 MiB) sent twice.
    expect(w.receiver.stats.laneBytesReceived).toBeGreaterThanOrEqual(6 * 1024 * 1024);
    expect(w.receiver.stats.chunkBytesReceived).toBeGreaterThan(0);
    expect(w.receiver.stats.laneBytesReceived + w.receiver.stats.chunkBytesReceived).toBeLessThanOrEqual(
      size + 1024 * 1024 + 256 * 1024,
    );
  });

  it('a lane cut late in a file: the stream hashes on from the lane sender’s digest state, not from byte 0', async () => {
    const size = 40 * 1024 * 1024 + 333;
    const cutAt = 30 * 1024 * 1024;
    const receiverBulk = cuttingAt(cutAt);
    const senderSource = countingSource();
    const w = await world(size, { receiverBulk, senderSource });
    const [out, inc] = await Promise.all([settled(w.sender, w.offerId), settled(w.receiver, w.offerId)]);
    expect(receiverBulk.cut).toBe(true);
    expect(out.state).toBe('done');
    expect(inc.files[0]!.state).toBe('verified');
    expect(await received(w.dir)).toBe(w.sha);
    // The sender's engine read what the stream sent, plus at most one digest-state interval (4 MiB) and a
    // block to hash on: not the 30 MiB the lane had already hashed in the platform.
    expect(w.sender.stats.chunkBytesSent).toBeGreaterThan(0);
    expect(senderSource.bytesRead).toBeLessThanOrEqual(w.sender.stats.chunkBytesSent + 5 * 1024 * 1024);
    expect(senderSource.bytesRead).toBeLessThan(cutAt);
  });

  it('a receiver killed mid-lane continues from the lane’s last checkpoint, not from the start', async () => {
    const size = 24 * 1024 * 1024;
    const dir = await mkdtemp(join(tmpdir(), 'parley-bulk-kill-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const data = randomBytes(size);
    const path = join(dir, 'big.bin');
    await writeFile(path, data);
    const kv = new MemoryKV();
    const real = nodeBulk({ tcp });
    let killAt: (() => void) | null = null;
    let lane: { cancel(): void } | undefined;
    // The receiver's platform; once 12 MiB are written, the "process dies": its lane and its session go.
    const dying: BulkPlatform = {
      send: (r) => real.send(r),
      async receive(request) {
        const receiving = await real.receive({
          ...request,
          onWritten: (offset) => {
            request.onWritten(offset);
            if (offset >= 12 * 1024 * 1024 && killAt) {
              const kill = killAt;
              killAt = null;
              kill();
            }
          },
        });
        lane = receiving;
        return receiving;
      },
    };
    const receiverOptions = {
      store: kv.view(),
      source: new NodeFileSource(),
      sink: new NodeFileSink(join(dir, 'b'), { sync: false }),
      isKnownContact: () => true,
      decide: () => 'accept' as const,
      progressIntervalMs: 0,
      blockHash: nodeBlockHash,
      checkpointBytes: 4 * 1024 * 1024,
      // Without checkpoints a restart would re-check at most this much of the partial's tail, then start over.
      maxTailBytes: 1024 * 1024,
    };
    const senderFiles = countingSource();
    const sender = await engine(join(dir, 'a'), nodeBulk({ tcp, source: senderFiles }));
    const first = new TransferEngine({ ...receiverOptions, bulk: dying });
    await first.start();
    const link1 = memoryLink({ windowBytes: 4 * 1024 * 1024 });
    const killed = new Promise<void>((resolve) => {
      killAt = () => {
        kv.crash(); // the dead process writes nothing more
        lane?.cancel();
        link1.cut();
        resolve();
      };
    });
    sender.attach('bob', onRoute(link1.a));
    first.attach('alice', onRoute(link1.b));
    const [offer] = await sender.send('bob', [{ relativePath: 'big.bin', source: path, size }]);
    await killed;
    sender.detach('bob');
    const readBefore = senderFiles.bytesRead;

    const second = new TransferEngine({ ...receiverOptions, store: kv.view(), bulk: nodeBulk({ tcp }) });
    await second.start();
    cleanups.push(() => second.close());
    const link2 = memoryLink({ windowBytes: 4 * 1024 * 1024 });
    second.attach('alice', onRoute(link2.b));
    sender.attach('bob', onRoute(link2.a));
    const inc = await settled(second, offer!.offerId);
    expect(inc.files[0]!.state).toBe('verified');
    expect(
      createHash('sha256')
        .update(await readFile(join(dir, 'b', 'big.bin')))
        .digest('hex'),
    ).toBe(createHash('sha256').update(data).digest('hex'));
    // From a checkpoint at 8 MiB or later: at most 16 MiB came again, on the lane or the stream.
    const resent = second.stats.laneBytesReceived + second.stats.chunkBytesReceived;
    expect(resent).toBeLessThanOrEqual(16 * 1024 * 1024);
    // The new lane's sender hashed on from the first lane's digest states (every 4 MiB), so it read what it
    // sent plus at most 4 MiB: not the file again from byte 0 (the resume point, 8 MiB or more).
    expect(senderFiles.bytesRead - readBefore).toBeLessThanOrEqual(resent + 5 * 1024 * 1024);
  });

  it('a receiver without lanes (older peer, web client) gets the file on the stream', async () => {
    const size = 3 * 1024 * 1024;
    const w = await world(size, { receiverBulk: null });
    const [out, inc] = await Promise.all([settled(w.sender, w.offerId), settled(w.receiver, w.offerId)]);
    expect([out.state, inc.state]).toEqual(['done', 'done']);
    expect(await received(w.dir)).toBe(w.sha);
    expect(w.sender.stats.laneBytesSent).toBe(0);
    expect(w.receiver.stats.chunkBytesReceived).toBe(size);
  });

  it('a sender without lanes, and a session not on TCP, keep the stream', async () => {
    for (const options of [{ senderBulk: null }, { route: 'webrtc' }] as const) {
      const size = 2 * 1024 * 1024;
      const w = await world(size, options);
      const [out, inc] = await Promise.all([settled(w.sender, w.offerId), settled(w.receiver, w.offerId)]);
      expect([out.state, inc.state]).toEqual(['done', 'done']);
      expect(await received(w.dir)).toBe(w.sha);
      expect(w.receiver.stats.laneBytesReceived).toBe(0);
      expect(w.receiver.stats.chunkBytesReceived).toBe(size);
    }
  });

  it('a sender that cannot reach the lane says so at once: the receiver stops waiting, the stream carries the file', async () => {
    const size = 2 * 1024 * 1024;
    // The receiver would wait a minute for the sender to dial in; its hints lead nowhere (a closed port).
    const real = nodeBulk({ tcp, expectMs: 60_000 });
    let cancelled = 0;
    const receiverBulk: BulkPlatform = {
      send: (r) => real.send(r),
      async receive(request) {
        const receiving = await real.receive(request);
        return {
          ...receiving,
          hints: [{ host: '127.0.0.1', port: 1 }],
          cancel: () => {
            cancelled += 1;
            receiving.cancel();
          },
        };
      },
    };
    const w = await world(size, { receiverBulk });
    const inc = await settled(w.receiver, w.offerId);
    expect(inc.state).toBe('done');
    expect(cancelled).toBe(1);
    expect(await received(w.dir)).toBe(w.sha);
    expect(w.receiver.stats.laneBytesReceived).toBe(0);
    expect(w.receiver.stats.chunkBytesReceived).toBe(size);
  });

  it('a receiver whose lane cannot listen refuses it, and the stream carries the file', async () => {
    const size = 2 * 1024 * 1024;
    const refusing = nodeBulk({
      tcp: {
        listen: () => Promise.reject(new Error('no interface to listen on')),
        connect: () => Promise.reject(new Error('unused')),
      },
    });
    const w = await world(size, { receiverBulk: refusing });
    const inc = await settled(w.receiver, w.offerId);
    expect(inc.state).toBe('done');
    expect(await received(w.dir)).toBe(w.sha);
    expect(w.receiver.stats.chunkBytesReceived).toBe(size);
  });
});
