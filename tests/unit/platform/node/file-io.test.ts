// The Node file adapters (platform/node) on a real temporary folder, alone and under the engine.
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  utimesSync,
  readdirSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeFileSink, NodeFileSource, writeError } from '../../../../platform/node/src/file-io.js';
import { walkForSend } from '../../../../cli/src/send-walk.js';
import { TransferEngine, TransferError } from '../../../../core/src/transfer/index.js';
import { memoryLink } from '../../core/transfer/memory-link.js';
import { MemoryKV, randomBytes } from '../../core/transfer/memory-io.js';
import { settled, sha256 } from '../../core/transfer/harness.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-node-files-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('NodeFileSource', () => {
  it('reads positionally and reports size and mtime', async () => {
    const dir = tempDir();
    const path = join(dir, 'a.bin');
    const data = randomBytes(200_000, 1);
    writeFileSync(path, data);
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    const file = await new NodeFileSource().open(path);
    expect(file.size).toBe(200_000);
    expect(file.mtime).toBe(1_700_000_000_000);
    expect([...(await file.read(100_000, 10))]).toEqual([...data.subarray(100_000, 100_010)]);
    expect((await file.read(199_990, 100)).length).toBe(10);
    // Framed: the bytes after `headroom` bytes of room; at the end of the file, headroom + what there was.
    const framed = await file.readFramed!(100_000, 10, 29);
    expect(framed.length).toBe(39);
    expect([...framed.subarray(29)]).toEqual([...data.subarray(100_000, 100_010)]);
    expect((await file.readFramed!(199_990, 100, 29)).length).toBe(39);
    await file.close();
  });

  it('reads framed into buffers handed back with release(), and only those, once each', async () => {
    const dir = tempDir();
    const path = join(dir, 'a.bin');
    const data = randomBytes(100_000, 2);
    writeFileSync(path, data);
    const file = await new NodeFileSource().open(path);
    const first = await file.readFramed!(0, 1000, 16);
    const second = await file.readFramed!(1000, 1000, 16);
    expect(second.buffer).not.toBe(first.buffer);
    file.release!(first);
    file.release!(first); // a second release must not hand the buffer out twice
    file.release!(new Uint8Array(1016)); // not one of ours: ignored
    const third = await file.readFramed!(2000, 1000, 16);
    expect(third.buffer).toBe(first.buffer);
    expect([...third.subarray(16)]).toEqual([...data.subarray(2000, 3000)]);
    const fourth = await file.readFramed!(3000, 1000, 16);
    expect([first.buffer, second.buffer]).not.toContain(fourth.buffer);
    // Another size gets a buffer of its own, and release() after close() keeps nothing.
    expect((await file.readFramed!(0, 10, 16)).buffer).not.toBe(first.buffer);
    await file.close();
    file.release!(fourth);
  });

  it('under the engine, every framed read is released once the peer has it, and buffers are reused', async () => {
    const src = tempDir();
    const dst = tempDir();
    const data = randomBytes(3 * 1024 * 1024 + 12_345, 3);
    writeFileSync(join(src, 'f.bin'), data);
    const source = new NodeFileSource();
    const reads = new Map<ArrayBufferLike, number>();
    let framedReads = 0;
    let released = 0;
    const counting = {
      open: async (path: string) => {
        const file = await source.open(path);
        return {
          ...file,
          readFramed: async (offset: number, length: number, headroom: number) => {
            const got = await file.readFramed!(offset, length, headroom);
            framedReads++;
            reads.set(got.buffer, (reads.get(got.buffer) ?? 0) + 1);
            return got;
          },
          release: (buffer: Uint8Array) => {
            released++;
            file.release!(buffer);
          },
        };
      },
    };
    const options = { isKnownContact: () => true, decide: () => 'accept' as const, progressIntervalMs: 0 };
    const alice = new TransferEngine({
      ...options,
      store: new MemoryKV().view(),
      source: counting,
      sink: new NodeFileSink(join(dst, 'unused')),
      chunkBytes: 64 * 1024,
      windowBytes: 256 * 1024,
    });
    const bob = new TransferEngine({
      ...options,
      store: new MemoryKV().view(),
      source: new NodeFileSource(),
      sink: new NodeFileSink(dst),
      chunkBytes: 64 * 1024,
      windowBytes: 256 * 1024,
    });
    await Promise.all([alice.start(), bob.start()]);
    const link = memoryLink({ latencyMs: 1, windowBytes: 256 * 1024 });
    alice.attach('bob', link.a);
    bob.attach('alice', link.b);
    const [offer] = await alice.send('bob', [{ relativePath: 'f.bin', source: join(src, 'f.bin'), size: data.length }]);
    const done = await settled(alice, offer!.offerId);
    expect(done.files[0]!.state).toBe('verified');
    await bob.idle();
    expect(sha256(readFileSync(join(dst, 'f.bin')))).toBe(sha256(data));
    const chunks = Math.ceil(data.length / (64 * 1024));
    expect(framedReads).toBe(chunks);
    expect(released).toBe(chunks);
    // A window of four chunks and four reads ahead: a handful of buffers served all 49 reads.
    expect(reads.size).toBeLessThan(16);
    await Promise.all([alice.close(), bob.close()]);
  });

  it.each([
    ['a missing file', (dir: string) => join(dir, 'nope'), /no such file/],
    ['a folder', (dir: string) => dir, /not a regular file|is a folder/],
    ['a relative path', () => 'relative/x', /not an absolute path/],
  ])('refuses %s with a clear source-unreadable error', async (_what, pathOf, message) => {
    const attempt = new NodeFileSource().open(pathOf(tempDir()));
    await expect(attempt).rejects.toMatchObject({ code: 'source-unreadable' });
    await expect(attempt).rejects.toThrow(message);
  });
});

describe('NodeFileSink', () => {
  it('writes a partial in the tree, keeps it across reopen, and commits without replacing a file', async () => {
    const dir = tempDir();
    const sink = new NodeFileSink(dir);
    const first = await sink.open('photos/2024/a.jpg', { key: 'k1', size: 6, mime: 'image/jpeg' });
    expect(first.existingBytes).toBe(0);
    await first.write(Uint8Array.from([1, 2, 3, 4]));
    await first.flush();
    await first.close();
    expect(readdirSync(join(dir, 'photos/2024'))).toEqual(['a.jpg.k1.part']);

    const again = await sink.open('photos/2024/a.jpg', { key: 'k1', size: 6, mime: 'image/jpeg' });
    expect(again.existingBytes).toBe(4);
    expect([...(await again.read!(2, 10))]).toEqual([3, 4]);
    await again.truncate(3);
    await again.write(Uint8Array.from([9, 9, 9]));
    writeFileSync(join(dir, 'photos/2024/a.jpg'), 'already here');
    expect(await again.commit()).toBe('photos/2024/a (1).jpg');
    expect([...readFileSync(join(dir, 'photos/2024/a (1).jpg'))]).toEqual([1, 2, 3, 9, 9, 9]);
    expect(readFileSync(join(dir, 'photos/2024/a.jpg'), 'utf8')).toBe('already here');
    expect(readdirSync(join(dir, 'photos/2024')).sort()).toEqual(['a (1).jpg', 'a.jpg']);
  });

  it('appends several pieces with one writev', async () => {
    const dir = tempDir();
    const file = await new NodeFileSink(dir).open('v.bin', { key: 'k', size: 7, mime: '' });
    await file.write(Uint8Array.from([1]));
    await file.writev!([Uint8Array.from([2, 3]), Uint8Array.from([]), Uint8Array.from([4, 5, 6, 7])]);
    await file.close();
    expect([...readFileSync(join(dir, 'v.bin.k.part'))]).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('discards a partial, and a missing one is no error', async () => {
    const dir = tempDir();
    const sink = new NodeFileSink(dir);
    const file = await sink.open('x.txt', { key: 'k', size: 1, mime: 'text/plain' });
    await file.write(Uint8Array.from([1]));
    await file.close();
    await sink.discard('x.txt', 'k');
    await sink.discard('x.txt', 'k');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses hostile names and folders that lead outside the receive folder', async () => {
    const dir = tempDir();
    const outside = tempDir();
    symlinkSync(outside, join(dir, 'escape'));
    const sink = new NodeFileSink(dir);
    await expect(sink.open('../x', { key: 'k', size: 1, mime: '' })).rejects.toMatchObject({ code: 'bad-name' });
    await expect(sink.open('escape/x', { key: 'k', size: 1, mime: '' })).rejects.toMatchObject({ code: 'bad-name' });
    await expect(sink.open('ok', { key: '../k', size: 1, mime: '' })).rejects.toMatchObject({ code: 'bad-name' });
    expect(readdirSync(outside)).toEqual([]);
  });

  it('maps a full disk to a clear disk-full error and other failures to write-failed', () => {
    const full = writeError(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }), 'big.bin');
    expect(full).toBeInstanceOf(TransferError);
    expect(full.code).toBe('disk-full');
    expect(full.message).toMatch(/disk full while writing big.bin; the partial file is kept/);
    const ro = writeError(Object.assign(new Error('x'), { code: 'EROFS' }), 'a');
    expect([ro.code, ro.message]).toEqual(['write-failed', 'cannot write a: read-only file system']);
  });
});

describe('engine with Node files', () => {
  it('sends a folder between two engines on disk and resumes a killed receiver from its partial', async () => {
    const src = tempDir();
    const dst = tempDir();
    mkdirSync(join(src, 'set/sub'), { recursive: true });
    const big = randomBytes(6 * 1024 * 1024, 5);
    writeFileSync(join(src, 'set/big.bin'), big);
    writeFileSync(join(src, 'set/sub/empty'), '');
    writeFileSync(join(src, 'set/sub/ünï.txt'), 'unicode');
    const { files } = await walkForSend([join(src, 'set')]);
    const kvA = new MemoryKV();
    const kvB = new MemoryKV();
    const options = {
      isKnownContact: () => true,
      decide: () => 'accept' as const,
      windowBytes: 1024 * 1024,
      progressIntervalMs: 0,
    };
    const alice = new TransferEngine({
      ...options,
      store: kvA.view(),
      source: new NodeFileSource(),
      sink: new NodeFileSink(join(dst, 'unused')),
    });
    let bob = new TransferEngine({
      ...options,
      store: kvB.view(),
      source: new NodeFileSource(),
      sink: new NodeFileSink(dst),
    });
    await Promise.all([alice.start(), bob.start()]);
    let link = memoryLink({ latencyMs: 1 });
    alice.attach('bob', link.a);
    bob.attach('alice', link.b);
    const [offer] = await alice.send('bob', files);
    await new Promise<void>((resolve) => {
      const off = bob.on('progress', (p) => {
        if (p.bytesDone >= 3 * 1024 * 1024) {
          off();
          resolve();
        }
      });
    });
    // Kill Bob: the link goes, his store stops, a new engine starts on the same folder.
    link.cut();
    alice.detach('bob');
    kvB.crash();
    // In one test process the old engine is still an object: let its queued writes land, as the kernel would.
    await bob.idle();
    const partial = readdirSync(join(dst, 'set')).find((n) => n.endsWith('.part'))!;
    expect(partial).toMatch(/^big\.bin\..+\.part$/);
    bob = new TransferEngine({
      ...options,
      store: kvB.view(),
      source: new NodeFileSource(),
      sink: new NodeFileSink(dst),
    });
    await bob.start();
    link = memoryLink({ latencyMs: 1 });
    alice.attach('bob', link.a);
    bob.attach('alice', link.b);
    const done = await settled(alice, offer!.offerId);
    expect(done.files.map((f) => f.state)).toEqual(['verified', 'verified', 'verified']);
    await bob.idle();
    expect(sha256(readFileSync(join(dst, 'set/big.bin')))).toBe(sha256(big));
    expect(readFileSync(join(dst, 'set/sub/ünï.txt'), 'utf8')).toBe('unicode');
    expect(readFileSync(join(dst, 'set/sub/empty')).length).toBe(0);
    expect(existsSync(join(dst, 'set', partial))).toBe(false);
    expect(alice.stats.chunkBytesSent - big.length - 7).toBeLessThanOrEqual(1024 * 1024 + 65536);
    await Promise.all([alice.close(), bob.close()]);
  });
});
