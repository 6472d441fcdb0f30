// Received records opened into lent memory (platform/node/src/aead.ts, core/src/session/buffer-lease.ts), end to
// end: two transfer engines on reliable streams over the secure record layer on a real loopback TCP connection,
// as the CLI runs them, with a receiver's disk slower than the network so chunks queue. The file arrives intact
// (a buffer reused while its chunk waited to be written would corrupt it: the digest would fail), and the
// receiver's decrypt buffers are reused rather than fresh per record.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/keys.js';
import { RelayTransport } from '../../../../core/src/session/relay-transport.js';
import { ReliableStream, StreamKind } from '../../../../core/src/session/stream.js';
import type { FileSink, SinkFile } from '../../../../core/src/transfer/io.js';
import { TransferEngine, type FrameStream } from '../../../../core/src/transfer/index.js';
import type { AeadEngine } from '../../../../core/src/crypto/index.js';
import { lend } from '../../../../core/src/session/buffer-lease.js';
import { nodeAead } from '../../../../platform/node/src/aead.js';
import { NodeFileSink, NodeFileSource } from '../../../../platform/node/src/file-io.js';
import { nodeBlockHash } from '../../../../platform/node/src/hash.js';
import { TcpFrameSocket } from '../../../../platform/node/src/tcp/index.js';
import { MemoryKV } from '../../core/transfer/memory-io.js';
import type { Bytes } from '../../../../signaling/protocol/index.js';
import { settled } from '../../core/transfer/harness.js';

const MiB = 1024 * 1024;
let alice: IdentityKeyPair;
let bob: IdentityKeyPair;
beforeAll(async () => {
  [alice, bob] = await Promise.all([
    generateIdentityKeyPair({ extractable: false }),
    generateIdentityKeyPair({ extractable: false }),
  ]);
});
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A record layer pair over loopback TCP (the CLI's direct path; the relay path runs the same layer). */
async function transports(): Promise<[RelayTransport, RelayTransport]> {
  return (await transportsOnSockets()).pair;
}

async function transportsOnSockets(
  aead: AeadEngine = nodeAead,
): Promise<{ pair: [RelayTransport, RelayTransport]; receiving: Socket }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => void server.close());
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const raw = connect((server.address() as { port: number }).port, '127.0.0.1');
  const accepted0 = await accepted;
  const [down, up] = [new TcpFrameSocket(accepted0), new TcpFrameSocket(raw)];
  const o = { sessionId: 'lent-records-sid', handshakeTimeoutMs: 3000, aead, path: 'tcp' as const };
  const pair = await Promise.all([
    RelayTransport.establish({
      ...o,
      socket: up,
      identity: alice,
      peerKey: bob.publicKey,
      peerId: bob.id,
      role: 'initiator',
    }),
    RelayTransport.establish({
      ...o,
      socket: down,
      identity: bob,
      peerKey: alice.publicKey,
      peerId: alice.id,
      role: 'responder',
    }),
  ]);
  cleanups.push(
    () => pair[0].close(),
    () => pair[1].close(),
  );
  return { pair, receiving: accepted0 };
}

/** The engine's view of a reliable stream (what core/src/transfer/session-stream.ts gives it on a session). */
function frameStream(stream: ReliableStream): FrameStream {
  return {
    send: (p, onAcked) => stream.send(StreamKind.File, p, { transfer: true, ...(onAcked ? { onAcked } : {}) }),
    onFrame: (h) => stream.onFrame(StreamKind.File, h),
    path: () => 'relay',
  };
}

/** A sink slower than the network (each write waits `delayMs`), noting the memory each written piece is in. */
function slowSink(inner: FileSink, delayMs: number, written: Uint8Array[][]): FileSink {
  const wait = () => new Promise((r) => setTimeout(r, delayMs));
  return {
    discard: (p, k) => inner.discard(p, k),
    async open(path, options) {
      const f = await inner.open(path, options);
      const slow: SinkFile = {
        ...f,
        existingBytes: f.existingBytes,
        truncate: (o) => f.truncate(o),
        flush: () => f.flush(),
        commit: () => f.commit(),
        close: () => f.close(),
        async write(chunk) {
          written.push([chunk]);
          await wait();
          await f.write(chunk);
        },
        async writev(chunks) {
          written.push(chunks);
          await wait();
          await f.writev!(chunks);
        },
      };
      return slow;
    },
  };
}

async function engine(sink: FileSink): Promise<TransferEngine> {
  const e = new TransferEngine({
    store: new MemoryKV().view(),
    source: new NodeFileSource(),
    sink,
    isKnownContact: () => true,
    decide: () => 'accept',
    progressIntervalMs: 0,
    blockHash: nodeBlockHash,
    relayWindowBytes: 8 * MiB,
  });
  await e.start();
  cleanups.push(() => e.close());
  return e;
}

/**
 * nodeAead, sealing into lent buffers it reuses once released (as an engine may to save allocations): the record
 * layer must release each only once its socket wrote it.
 */
function lendingSealer(): AeadEngine {
  const spares: Bytes[] = [];
  return {
    ...nodeAead,
    encryptParts(key, nonce, aad, plaintext) {
      const { body, tag } = nodeAead.encryptParts!(key, nonce, aad, plaintext);
      const at = spares.findIndex((b) => b.length === body.length);
      const out = at >= 0 ? spares.splice(at, 1)[0]! : new Uint8Array(body.length);
      out.set(body);
      lend(out, () => spares.push(out));
      return { body: out, tag };
    },
  };
}

describe('records opened into lent memory', () => {
  it('a 24 MiB file reaches a slow disk intact while the receiver reuses its decrypt buffers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-lent-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const size = 24 * MiB + 4321;
    const data = randomBytes(size);
    const path = join(dir, 'big.bin');
    await writeFile(path, data);
    const written: Uint8Array[][] = [];
    const sender = await engine(new NodeFileSink(join(dir, 'a'), { sync: false }));
    const receiver = await engine(slowSink(new NodeFileSink(join(dir, 'b'), { sync: false }), 3, written));
    const [ta, tb] = await transports();
    const [sa, sb] = [new ReliableStream({ windowBytes: 8 * MiB }), new ReliableStream({ windowBytes: 8 * MiB })];
    cleanups.push(
      () => sa.close(),
      () => sb.close(),
    );
    sa.attach(ta, { current: true });
    sb.attach(tb, { current: true });
    sender.attach('bob', frameStream(sa));
    receiver.attach('alice', frameStream(sb));
    const [offer] = await sender.send('bob', [{ relativePath: 'big.bin', source: path, size }]);
    const [out, inc] = await Promise.all([settled(sender, offer!.offerId), settled(receiver, offer!.offerId)]);
    expect(out.state).toBe('done');
    expect(inc.state).toBe('done');
    expect(inc.files[0]!.state).toBe('verified');
    const got = await readFile(join(dir, 'b', 'big.bin'));
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    // The chunks queued behind the slow disk (several writes gathered more than one chunk)…
    const pieces = written.flat().filter((p) => p.length > 64 * 1024);
    expect(pieces.length).toBeGreaterThan(90);
    expect(written.length).toBeLessThan(pieces.length * 0.75);
    // …and came in far fewer buffers than records: each went back once its chunk was written and hashed.
    const buffers = new Set(pieces.map((p) => p.buffer));
    expect(buffers.size).toBeLessThan(pieces.length / 2);
  });

  it('a sealed record waiting in the socket is never overwritten by the next one (receiver not reading)', async () => {
    const { pair, receiving } = await transportsOnSockets(lendingSealer());
    const [a, b] = pair;
    // The receiver stops reading: the kernel's buffers fill and the sender's writes wait in its socket,
    // holding ciphertext in lent buffers that must not be reused until written.
    receiving.pause();
    const count = 120;
    const sums: number[] = [];
    const all = new Promise<void>((resolve) =>
      b.onFrame((f) => {
        sums.push(createHash('sha256').update(f).digest()[0]!);
        if (sums.length === count) resolve();
      }),
    );
    const closed = new Promise<string>((r) => b.onClose(r));
    const frames: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const frame = randomBytes(200_000);
      frames.push(frame);
      a.send(frame);
      await new Promise((r) => setImmediate(r)); // one record each
    }
    expect(a.bufferedAmount).toBeGreaterThan(4 * MiB);
    receiving.resume();
    const outcome = await Promise.race([all.then(() => 'all'), closed]);
    expect(outcome).toBe('all');
    expect(sums).toEqual(frames.map((f) => createHash('sha256').update(f).digest()[0]!));
  });
});
