// Bulk lanes over real loopback sockets (platform/node/src/bulk): a file read straight into sealed DATA
// records, written to a partial and hashed on the other side; a cut lane continues on a new connection from
// where the partial and digest are; wrong keys, silence, out-of-place DATA and too many handshakes refused.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TcpHint } from '../../../../core/src/session/tcp-path.js';
import { BulkLaneError, encodeLaneFrame } from '../../../../core/src/transfer/bulk-frame.js';
import { deriveLaneKey, newBulkShare, type LaneRole } from '../../../../core/src/transfer/bulk-key.js';
import { FileDigest } from '../../../../core/src/transfer/hash.js';
import type { SinkFile } from '../../../../core/src/transfer/io.js';
import { connectLane, type BulkLane } from '../../../../platform/node/src/bulk/lane.js';
import { BulkLaneServer } from '../../../../platform/node/src/bulk/lane-server.js';
import { LaneCut, receiveOnLane } from '../../../../platform/node/src/bulk/receive-file.js';
import { sendOnLane } from '../../../../platform/node/src/bulk/send-file.js';
import { NodeFileSink, NodeFileSource } from '../../../../platform/node/src/file-io.js';
import { nodeBlockHash } from '../../../../platform/node/src/hash.js';
import { nodeTcp } from '../../../../platform/node/src/tcp/index.js';

const tcp = nodeTcp({ addresses: () => ['127.0.0.1'] });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const newKey = () =>
  deriveLaneKey({
    sessionId: 'sid',
    offerId: 'AAAAAAAAAAAAAAAAAAAAAA',
    fileId: 0,
    senderShare: newBulkShare(),
    receiverShare: newBulkShare(),
  });

async function server(options: ConstructorParameters<typeof BulkLaneServer>[1] = {}): Promise<BulkLaneServer> {
  const s = new BulkLaneServer(await tcp.listen(), { handshakeMs: 2000, ...options });
  cleanups.push(() => s.close());
  return s;
}

async function dial(hints: readonly TcpHint[], key: Uint8Array, role: LaneRole): Promise<BulkLane> {
  const lane = await connectLane(await tcp.connect(hints, 2000), key, role, { handshakeMs: 2000 });
  cleanups.push(() => lane.close());
  return lane;
}

async function tempFile(bytes: number): Promise<{ dir: string; path: string; sha: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-bulk-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const data = randomBytes(bytes);
  const path = join(dir, 'source.bin');
  await writeFile(path, data);
  return { dir, path, sha: createHash('sha256').update(data).digest('hex') };
}

async function fileDigestOf(path: string): Promise<string> {
  const digest = await FileDigest.create(undefined, nodeBlockHash);
  digest.update(await readFile(path));
  return digest.hex();
}

async function partial(dir: string): Promise<{ sink: NodeFileSink; file: SinkFile; path: string }> {
  const sink = new NodeFileSink(join(dir, 'in'), { sync: false });
  const file = await sink.open('got.bin', { key: 'k1', size: 0, mime: '' });
  cleanups.push(() => file.close());
  return { sink, file, path: sink.partialPath('got.bin', 'k1') };
}

describe('bulk lane over loopback TCP', () => {
  it('moves a 48 MiB file from disk to disk, hashed on the way: same file digest, same bytes', async () => {
    const size = 48 * 1024 * 1024;
    const { dir, path, sha } = await tempFile(size);
    const key = await newKey();
    const s = await server();
    // The receiver listens here; the sender dials (either way round works: the tag names the lane).
    const [receiving, sending] = await Promise.all([s.expect(key, 'receiver'), dial(s.hints, key, 'sender')]);
    cleanups.push(() => receiving.close());
    const source = await new NodeFileSource().open(path);
    cleanups.push(() => source.close());
    const out = await partial(dir);
    const digest = await FileDigest.create(undefined, nodeBlockHash);
    const acked: number[] = [];
    const [written, sent] = await Promise.all([
      receiveOnLane(receiving, out.file, { size, from: 0, digest }),
      sendOnLane(sending, source, { size, onAcked: (o) => acked.push(o) }),
    ]);
    expect(written).toBe(size);
    expect(sent.from).toBe(0);
    expect(acked.at(-1)).toBe(size);
    expect(await digest.hex()).toBe(await fileDigestOf(path));
    expect(
      createHash('sha256')
        .update(await readFile(out.path))
        .digest('hex'),
    ).toBe(sha);
  });

  it('a lane cut mid-file goes on over a new connection from the written offset: nothing lost or twice', async () => {
    const size = 24 * 1024 * 1024 + 12345;
    const { dir, path, sha } = await tempFile(size);
    const key = await newKey();
    const s = await server();
    const source = await new NodeFileSource().open(path);
    cleanups.push(() => source.close());
    const out = await partial(dir);
    const digest = await FileDigest.create(undefined, nodeBlockHash);

    const [first, firstSender] = await Promise.all([s.expect(key, 'receiver'), dial(s.hints, key, 'sender')]);
    let cutAt = -1;
    const receiving = receiveOnLane(first, out.file, {
      size,
      from: 0,
      digest,
      onWritten: (o) => {
        // Cut the connection under both ends once some megabytes are across.
        if (cutAt < 0 && o >= 7 * 1024 * 1024) {
          cutAt = o;
          firstSender.close('cable pulled');
        }
      },
    });
    const sending = sendOnLane(firstSender, source, { size }).then(
      () => null,
      (e: unknown) => e,
    );
    const cut = await receiving.then(
      () => null,
      (e: unknown) => e,
    );
    expect(await sending).toBeInstanceOf(BulkLaneError);
    expect(cut).toBeInstanceOf(LaneCut);
    const written = (cut as LaneCut).written;
    expect(written).toBeGreaterThanOrEqual(cutAt);
    expect(written).toBeLessThan(size);
    expect(digest.position).toBe(written);

    // The same lane key, a new connection (fresh record secrets), from where the partial is.
    const [second, secondSender] = await Promise.all([s.expect(key, 'receiver'), dial(s.hints, key, 'sender')]);
    const [total, resumed] = await Promise.all([
      receiveOnLane(second, out.file, { size, from: written, digest }),
      sendOnLane(secondSender, source, { size }),
    ]);
    expect(total).toBe(size);
    expect(resumed.from).toBe(written);
    expect(await digest.hex()).toBe(await fileDigestOf(path));
    const got = await readFile(out.path);
    expect(got.length).toBe(size);
    expect(createHash('sha256').update(got).digest('hex')).toBe(sha);
  });

  it('refuses a connector with another key; the lane stays expected and the right key then gets through', async () => {
    const key = await newKey();
    const s = await server();
    const expected = s.expect(key, 'receiver');
    // Another key has another tag: the listener knows no such lane and drops the connection.
    await expect(dial(s.hints, await newKey(), 'sender')).rejects.toBeInstanceOf(BulkLaneError);
    expect(s.refused).toBe(1);
    expect(s.expectedCount).toBe(1);
    const [lane] = await Promise.all([expected, dial(s.hints, key, 'sender')]);
    expect(lane.role).toBe('receiver');
  });

  it('refuses a connector claiming the listener’s own role', async () => {
    const key = await newKey();
    const s = await server();
    void s.expect(key, 'receiver').catch(() => {});
    const error = await dial(s.hints, key, 'receiver').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkLaneError);
    expect(s.refused).toBe(1);
  });

  it('drops a connection that says nothing within the deadline, and one past the handshake limit at once', async () => {
    const s = await server({ handshakeMs: 300, maxPendingHandshakes: 1 });
    const hint = s.hints[0]!;
    const closed = (socket: ReturnType<typeof connect>) => new Promise<void>((r) => socket.once('close', () => r()));
    const silent = connect(hint.port, hint.host);
    silent.on('error', () => {});
    cleanups.push(() => void silent.destroy());
    await new Promise<void>((r) => silent.once('connect', () => r()));
    // The second arrives while the silent one holds the only handshake slot: closed at once.
    const second = connect(hint.port, hint.host);
    second.on('error', () => {});
    cleanups.push(() => void second.destroy());
    await closed(second);
    expect(s.refused).toBe(1);
    await closed(silent);
    expect(s.refused).toBe(2);
  });

  it('the receiver cuts a sender whose DATA is out of place and writes none of it', async () => {
    const { dir } = await tempFile(1);
    const key = await newKey();
    const s = await server();
    const [receiving, rogue] = await Promise.all([s.expect(key, 'receiver'), dial(s.hints, key, 'sender')]);
    const out = await partial(dir);
    const digest = await FileDigest.create(undefined, nodeBlockHash);
    const result = receiveOnLane(receiving, out.file, { size: 1000, from: 0, digest }).catch((e: unknown) => e);
    await rogue.send(encodeLaneFrame({ kind: 'data', offset: 0, data: new Uint8Array(10).fill(7) }));
    await rogue.send(encodeLaneFrame({ kind: 'data', offset: 500, data: new Uint8Array(10).fill(8) })); // a gap
    const cut = await result;
    expect(cut).toBeInstanceOf(LaneCut);
    expect((cut as LaneCut).written).toBe(10);
    expect(((cut as LaneCut).reason as BulkLaneError).code).toBe('out-of-order');
    expect((await readFile(out.path)).length).toBe(10);
  });

  it('the receiver cuts a sender that ignores its window instead of buffering without end', async () => {
    const key = await newKey();
    const s = await server();
    const [receiving, rogue] = await Promise.all([s.expect(key, 'receiver'), dial(s.hints, key, 'sender')]);
    // A disk that never finishes a write: everything after the first DATA piles up.
    const stuck: SinkFile = {
      existingBytes: 0,
      write: () => new Promise(() => {}),
      truncate: async () => {},
      flush: async () => {},
      commit: async () => 'x',
      close: async () => {},
    };
    const digest = await FileDigest.create(undefined, nodeBlockHash);
    // The outcome waits for the stuck write (it never settles here); the lane itself is closed at once.
    void receiveOnLane(receiving, stuck, { size: 64 * 1024 * 1024, from: 0, digest, maxUnwrittenBytes: 1024 * 1024 });
    const closed = new Promise<string>((r) => receiving.onClose(r));
    const piece = 252 * 1024;
    for (let offset = 0; offset < 2 * 1024 * 1024 && !rogue.closed; offset += piece)
      await rogue.send(encodeLaneFrame({ kind: 'data', offset, data: new Uint8Array(piece) })).catch(() => {});
    expect(await closed).toMatch(/ahead of the disk/);
  });

  it('an expectation nobody meets fails in time, and closing the server fails the rest', async () => {
    const s = await server();
    await expect(s.expect(await newKey(), 'sender', 50)).rejects.toMatchObject({ code: 'timeout' });
    const pending = s.expect(await newKey(), 'sender');
    s.close();
    await expect(pending).rejects.toMatchObject({ code: 'closed' });
    await expect(s.expect(await newKey(), 'sender')).rejects.toMatchObject({ code: 'closed' });
  });
});
