import { describe, expect, it } from 'vitest';
import { TransferError, type TransferInfo } from '../../../../core/src/transfer/index.js';
import {
  decodeFrame,
  newOfferId,
  encodeChunk,
  encodeControl,
  FRAME_CHUNK,
  CHUNK_HEADER_BYTES,
  DEFAULT_CHUNK_BYTES,
  TRANSFER_PROTOCOL_VERSION,
} from '../../../../core/src/transfer/protocol.js';
import { DIGEST_BLOCK_BYTES } from '../../../../core/src/transfer/hash.js';
import { nodeBlockHash } from '../../../../platform/node/src/hash.js';
import { memoryLink } from './memory-link.js';
import { connect, createPeer, restart, settled, sha256, waitFor, type Peer } from './harness.js';
import { randomBytes } from './memory-io.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** The engines here send default-size chunks. */
const CHUNK = DEFAULT_CHUNK_BYTES;

async function sendOne(alice: Peer, name: string, data: Uint8Array, source = `/src/${name}`): Promise<TransferInfo> {
  alice.sources.add(source, data);
  const [offer] = await alice.engine.send('bob', [{ relativePath: name, source, size: data.length }]);
  return offer!;
}

function progressPast(peer: Peer, offerId: string, bytes: number) {
  return waitFor(peer.engine, 'progress', (p) => p.offerId === offerId && p.bytesDone >= bytes);
}

describe('transfer engine over an in-memory link', () => {
  it('sends one file and both sides agree it verified', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob');
    const data = randomBytes(3 * MiB + 123, 7);
    connect(alice, bob, { latencyMs: 2 });
    const offer = await sendOne(alice, 'a.bin', data);
    const done = await settled(alice.engine, offer.offerId);
    expect(done.state).toBe('done');
    expect(done.files[0]!.state).toBe('verified');
    await bob.engine.idle();
    expect(sha256(bob.disk.finals().get('a.bin')!)).toBe(sha256(data));
    expect(bob.disk.partials()).toEqual([]);
    expect(bob.engine.get(offer.offerId)!.files[0]!.savedAs).toBe('a.bin');
    expect(alice.engine.stats.chunkBytesSent).toBe(data.length);
  });

  it('sends empty files and keeps a Unicode folder tree', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob');
    const files = new Map<string, Uint8Array>([
      ['empty.txt', new Uint8Array(0)],
      ['docs/résumé — 履歴書.txt', randomBytes(5000, 2)],
      ['фото/снимок 1.jpg', randomBytes(70_000, 3)],
      ['🎉/deep/er/empty too', new Uint8Array(0)],
    ]);
    for (const [name, data] of files) alice.sources.add(name, data);
    connect(alice, bob);
    const [offer] = await alice.engine.send(
      'bob',
      [...files].map(([name, data]) => ({ relativePath: name, source: name, size: data.length })),
    );
    const done = await settled(alice.engine, offer!.offerId);
    expect(done.files.map((f) => f.state)).toEqual(['verified', 'verified', 'verified', 'verified']);
    await bob.engine.idle();
    const finals = bob.disk.finals();
    expect([...finals.keys()].sort()).toEqual([...files.keys()].sort());
    for (const [name, data] of files) expect(sha256(finals.get(name)!)).toBe(sha256(data));
  });

  it('sends many small files in one offer', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob');
    const names: string[] = [];
    for (let i = 0; i < 400; i++) {
      const name = `tree/d${i % 7}/f${i}.dat`;
      names.push(name);
      alice.sources.add(name, randomBytes(i * 37, i + 1));
    }
    connect(alice, bob);
    const offers = await alice.engine.send(
      'bob',
      names.map((n) => ({ relativePath: n, source: n, size: alice.sources.files.get(n)!.data.length })),
    );
    expect(offers).toHaveLength(1);
    const done = await settled(alice.engine, offers[0]!.offerId);
    expect(done.files.every((f) => f.state === 'verified')).toBe(true);
    await bob.engine.idle();
    const finals = bob.disk.finals();
    expect(finals.size).toBe(400);
    for (const name of names) expect(sha256(finals.get(name)!)).toBe(sha256(alice.sources.files.get(name)!.data));
  });

  it('refuses to send a hostile name and sends nothing', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob');
    const conn = connect(alice, bob);
    alice.sources.add('x', new Uint8Array(1));
    for (const name of ['../x', '/etc/passwd', 'C:/x', 'a\\b', 'CON.txt', 'a/./b']) {
      const attempt = alice.engine.send('bob', [{ relativePath: name, source: 'x', size: 1 }]);
      await expect(attempt).rejects.toBeInstanceOf(TransferError);
      await expect(attempt).rejects.toMatchObject({ code: 'bad-name' });
    }
    expect(conn.link.a.framesSent).toBe(0);
  });

  it('declines offers with hostile names from a peer and writes nothing', async () => {
    const bob = await createPeer('bob');
    const link = memoryLink();
    bob.engine.attach('mallory', link.b);
    const hostile = [
      '../escape',
      'a/../../b',
      '/abs',
      'C:\\win',
      'x/NUL',
      'lpt1.log',
      'evil\u202etxt.exe',
      'a\u0000b',
      'trailing.',
      'n'.repeat(300),
    ];
    const replies: Array<{ offerId: string; t: string; code?: string; message?: string }> = [];
    const allReplied = new Promise<void>((resolve) => {
      link.a.onFrame((frame) => {
        const decoded = decodeFrame(frame);
        if (decoded.kind === 'control') replies.push(decoded.message as never);
        if (replies.length === hostile.length) resolve();
      });
    });
    const ids = hostile.map(() => newOfferId());
    for (const [i, name] of hostile.entries()) {
      await link.a.send(
        encodeControl({
          t: 'offer',
          v: TRANSFER_PROTOCOL_VERSION,
          offerId: ids[i]!,
          round: 1,
          total: 4,
          files: [{ fileId: 0, relativePath: name, size: 4, mime: 'x/y' }],
        }),
      );
      // Chunks pushed anyway must not create anything either.
      await link.a.send(encodeChunk({ offerId: ids[i]!, fileId: 0, offset: 0, data: new Uint8Array(4) }));
    }
    await allReplied;
    expect(replies.map((r) => r.t)).toEqual(hostile.map(() => 'decline'));
    expect(replies.map((r) => r.code)).toEqual(hostile.map(() => 'bad-name'));
    expect(replies.every((r) => r.message?.startsWith('refused file name'))).toBe(true);
    await bob.engine.idle();
    expect(bob.disk.files.size).toBe(0);
    expect(bob.engine.list()).toEqual([]);
    expect(bob.errors.filter((e) => e.code === 'bad-name')).toHaveLength(hostile.length);
  });

  it('declines offers from unknown contacts by default', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob', { isKnownContact: undefined, decide: undefined });
    connect(alice, bob);
    const offer = await sendOne(alice, 'a.bin', randomBytes(1000));
    const done = await settled(alice.engine, offer.offerId);
    expect(done.state).toBe('declined');
    expect(done.error?.message).toMatch(/unknown contacts/);
    expect(bob.disk.files.size).toBe(0);
  });

  it('asks the user, who accepts one offer and declines another', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob', { decide: () => 'ask' });
    connect(alice, bob);
    const asked = waitFor(bob.engine, 'offer');
    const first = await sendOne(alice, 'yes.bin', randomBytes(100_000, 4));
    expect((await asked).offerId).toBe(first.offerId);
    expect(bob.engine.get(first.offerId)!.state).toBe('pending');
    bob.engine.accept(first.offerId);
    expect((await settled(alice.engine, first.offerId)).state).toBe('done');

    const askedAgain = waitFor(bob.engine, 'offer');
    const second = await sendOne(alice, 'no.bin', randomBytes(100_000, 5));
    await askedAgain;
    bob.engine.decline(second.offerId, 'not now');
    const declined = await settled(alice.engine, second.offerId);
    expect(declined.state).toBe('declined');
    expect(declined.error?.message).toBe('not now');
    await bob.engine.idle();
    expect([...bob.disk.finals().keys()]).toEqual(['yes.bin']);
  });

  for (const side of ['sender', 'receiver'] as const) {
    it(`cancels mid-transfer from the ${side}`, async () => {
      const alice = await createPeer('alice');
      const bob = await createPeer('bob');
      connect(alice, bob, { latencyMs: 2, windowBytes: 256 * KiB });
      const offer = await sendOne(alice, 'big.bin', randomBytes(16 * MiB, 9));
      await progressPast(bob, offer.offerId, 2 * MiB);
      (side === 'sender' ? alice : bob).engine.cancel(offer.offerId);
      const [a, b] = await Promise.all([settled(alice.engine, offer.offerId), settled(bob.engine, offer.offerId)]);
      expect(a.state).toBe('cancelled');
      expect(b.state).toBe('cancelled');
      expect(a.files[0]!.state).toBe('cancelled');
      expect(b.files[0]!.state).toBe('cancelled');
      await bob.engine.idle();
      expect(bob.disk.files.size).toBe(0);
      expect(alice.engine.stats.chunkBytesSent).toBeLessThan(16 * MiB);
    });
  }

  it('cancels an offer the receiver has not decided on yet', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob', { decide: () => 'ask' });
    connect(alice, bob);
    const asked = waitFor(bob.engine, 'offer');
    const offer = await sendOne(alice, 'undecided.bin', randomBytes(10_000, 31));
    await asked;
    alice.engine.cancel(offer.offerId);
    const theirs = await settled(bob.engine, offer.offerId);
    expect(theirs.state).toBe('cancelled');
    expect(theirs.error?.message).toMatch(/cancelled by the sender/);
    expect(() => bob.engine.accept(offer.offerId)).toThrow(/not waiting for a decision/);
    expect((await settled(alice.engine, offer.offerId)).state).toBe('cancelled');
  });

  it('continues after the link drops, re-sending at most one window', async () => {
    const windowBytes = MiB;
    const alice = await createPeer('alice', { windowBytes });
    const bob = await createPeer('bob', { windowBytes });
    const data = randomBytes(12 * MiB, 11);
    const conn = connect(alice, bob, { latencyMs: 2, windowBytes: 512 * KiB });
    const offer = await sendOne(alice, 'big.bin', data);
    await progressPast(bob, offer.offerId, 5 * MiB);
    conn.cut();
    expect(alice.engine.stats.chunkBytesSent).toBeLessThan(data.length);
    expect(alice.engine.get(offer.offerId)!.state).toBe('active');
    connect(alice, bob, { latencyMs: 2, windowBytes: 512 * KiB });
    const done = await settled(alice.engine, offer.offerId);
    expect(done.files[0]!.state).toBe('verified');
    await bob.engine.idle();
    expect(sha256(bob.disk.finals().get('big.bin')!)).toBe(sha256(data));
    const resent = alice.engine.stats.chunkBytesSent - data.length;
    expect(resent).toBeGreaterThanOrEqual(0);
    expect(resent).toBeLessThanOrEqual(windowBytes + CHUNK);
  });

  it('keeps going through a lossless path switch without re-sending', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob');
    const data = randomBytes(8 * MiB, 12);
    const conn = connect(alice, bob, { latencyMs: 1, windowBytes: 512 * KiB });
    const offer = await sendOne(alice, 'big.bin', data);
    await progressPast(bob, offer.offerId, 2 * MiB);
    const onRelay = waitFor(alice.engine, 'progress', (p) => p.path === 'relay');
    conn.link.switchPath('relay');
    await onRelay;
    expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
    expect(alice.engine.stats.chunkBytesSent).toBe(data.length);
  });

  it('resumes after the receiver crashes: what it wrote is kept, at most a window is re-sent', async () => {
    const windowBytes = MiB;
    const alice = await createPeer('alice', { windowBytes });
    let bob = await createPeer('bob', { windowBytes });
    const data = randomBytes(20 * MiB, 13);
    const conn = connect(alice, bob, { latencyMs: 2, windowBytes: 512 * KiB });
    const offer = await sendOne(alice, 'big.bin', data);
    await progressPast(bob, offer.offerId, 10 * MiB);
    conn.crash(bob);
    expect(alice.engine.stats.chunkBytesSent).toBeLessThan(data.length);
    bob = await restart(bob, { windowBytes });
    expect(bob.engine.get(offer.offerId)!.state).toBe('active');
    // A kill keeps what was written: the partial holds well past 5 MiB. The recorded checkpoint may trail it by
    // a checkpoint still being made at the kill (a loaded CI run had 4 MiB recorded at 10 MiB received), so
    // only the partial is bounded here; the re-sent bound below proves its tail past the checkpoint was kept.
    const partial = bob.disk.files.get(bob.disk.partials()[0]!)!;
    expect(partial.length).toBeGreaterThan(5 * MiB);
    expect(bob.engine.get(offer.offerId)!.files[0]!.bytesDone).toBeLessThanOrEqual(partial.length);
    connect(alice, bob, { latencyMs: 2, windowBytes: 512 * KiB });
    expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
    await bob.engine.idle();
    expect(sha256(bob.disk.finals().get('big.bin')!)).toBe(sha256(data));
    const resent = alice.engine.stats.chunkBytesSent - data.length;
    expect(resent).toBeLessThanOrEqual(windowBytes + CHUNK);
    // What the dead process had written was kept (verified through the tail hash), not fetched again.
    expect(bob.engine.stats.duplicateBytes).toBe(0);
  });

  it('resumes when the session survives a receiver restart and re-delivers stale frames', async () => {
    const windowBytes = MiB;
    const alice = await createPeer('alice', { windowBytes });
    let bob = await createPeer('bob', { windowBytes });
    const data = randomBytes(16 * MiB, 27);
    const link = memoryLink({ latencyMs: 2, windowBytes: 2 * MiB, batch: 1 });
    alice.engine.attach('bob', link.a);
    bob.engine.attach('alice', link.b);
    const offer = await sendOne(alice, 'big.bin', data);
    await progressPast(bob, offer.offerId, 6 * MiB);
    // Bob dies; the session on Alice's side lives on, and what it had in flight reaches Bob's next incarnation.
    link.b.orphan();
    bob = await restart(bob, { windowBytes });
    bob.engine.attach('alice', link.b);
    link.a.reset();
    expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
    await bob.engine.idle();
    expect(sha256(bob.disk.finals().get('big.bin')!)).toBe(sha256(data));
    // The frames in flight were not lost: the new incarnation continued its partial with them.
    expect(bob.engine.stats.chunkBytesReceived).toBeGreaterThan(0);
    expect(alice.engine.stats.chunkBytesSent - data.length).toBeLessThanOrEqual(2 * CHUNK);
  });

  for (const where of ['re-delivered frames', 'a re-offer'] as const) {
    it(`rolls back kept bytes the sender does not confirm (continuing with ${where})`, async () => {
      const windowBytes = MiB;
      const checkpointBytes = 2 * MiB;
      const alice = await createPeer('alice', { windowBytes });
      let bob = await createPeer('bob', { windowBytes, checkpointBytes });
      const data = randomBytes(16 * MiB, 28);
      const link = memoryLink({ latencyMs: 2, windowBytes: 2 * MiB });
      alice.engine.attach('bob', link.a);
      bob.engine.attach('alice', link.b);
      const offer = await sendOne(alice, 'big.bin', data);
      await progressPast(bob, offer.offerId, 7 * MiB);
      // A power cut that leaves the unflushed tail full of zeros: it must not end up in the file.
      link.b.orphan();
      if (where === 'a re-offer') link.cut();
      bob = await restart(bob, { windowBytes, checkpointBytes, crash: 'garbage' });
      const partial = bob.disk.files.get(bob.disk.partials()[0]!)!;
      const checkpoint = bob.engine.get(offer.offerId)!.files[0]!.bytesDone;
      expect(partial.length).toBeGreaterThan(checkpoint);
      expect(partial.data.subarray(checkpoint, partial.length).every((b) => b === 0)).toBe(true);
      if (where === 'a re-offer') {
        alice.engine.detach('bob');
        connect(alice, bob, { latencyMs: 2 });
      } else {
        bob.engine.attach('alice', link.b);
        link.a.reset();
      }
      expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
      await bob.engine.idle();
      expect(sha256(bob.disk.finals().get('big.bin')!)).toBe(sha256(data));
    });
  }

  it('resumes after a power cut on the receiver from its last checkpoint', async () => {
    const windowBytes = MiB;
    const checkpointBytes = 512 * KiB;
    const alice = await createPeer('alice', { windowBytes });
    let bob = await createPeer('bob', { windowBytes, checkpointBytes });
    const data = randomBytes(20 * MiB, 14);
    const conn = connect(alice, bob, { latencyMs: 2, windowBytes: 512 * KiB });
    const offer = await sendOne(alice, 'big.bin', data);
    await progressPast(bob, offer.offerId, 10 * MiB);
    conn.crash(bob);
    bob = await restart(bob, { windowBytes, checkpointBytes, crash: 'power-loss' });
    // The power cut took the partial back to what was flushed; the recorded checkpoint is at most one
    // interval plus one write run (1 MiB) behind it, rounded down to a digest block boundary.
    const partial = bob.disk.files.get(bob.disk.partials()[0]!)!;
    expect(partial.length).toBe(partial.durable);
    const checkpoint = bob.engine.get(offer.offerId)!.files[0]!.bytesDone;
    expect(checkpoint).toBeLessThanOrEqual(partial.length);
    expect(checkpoint % DIGEST_BLOCK_BYTES).toBe(0);
    expect(checkpoint).toBeGreaterThanOrEqual(partial.length - checkpointBytes - MiB - DIGEST_BLOCK_BYTES);
    connect(alice, bob, { latencyMs: 2, windowBytes: 512 * KiB });
    expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
    await bob.engine.idle();
    expect(sha256(bob.disk.finals().get('big.bin')!)).toBe(sha256(data));
    // What was re-sent: what was in flight at the cut (the window) and what lay between the checkpoint and the
    // cut, which the checkpoint may trail by the tolerance asserted above; far less than the 10+ MiB a restart
    // from an older point (or from 0) would re-send. (windowBytes + 2 × checkpointBytes + CHUNK was tighter than
    // that tolerance and failed a loaded CI run by 256 KiB: 2,620,510 re-sent.)
    const resent = alice.engine.stats.chunkBytesSent - data.length;
    expect(resent).toBeLessThanOrEqual(windowBytes + checkpointBytes + MiB + DIGEST_BLOCK_BYTES + CHUNK);
  });

  it('hashes blocks with the platform hash: resumes across a power cut, and agrees with a WebCrypto peer', async () => {
    const windowBytes = MiB;
    const checkpointBytes = 512 * KiB;
    const alice = await createPeer('alice', { windowBytes, blockHash: nodeBlockHash });
    let bob = await createPeer('bob', { windowBytes, checkpointBytes });
    const data = randomBytes(9 * MiB + 333, 16);
    const conn = connect(alice, bob, { latencyMs: 2, windowBytes: 512 * KiB });
    const offer = await sendOne(alice, 'mixed.bin', data);
    await progressPast(bob, offer.offerId, 5 * MiB);
    conn.crash(bob);
    // The checkpoint bob wrote with WebCrypto continues under the platform hash.
    bob = await restart(bob, { windowBytes, checkpointBytes, crash: 'power-loss', blockHash: nodeBlockHash });
    expect(bob.engine.get(offer.offerId)!.files[0]!.bytesDone).toBeGreaterThan(0);
    connect(alice, bob, { latencyMs: 2, windowBytes: 512 * KiB });
    expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
    await bob.engine.idle();
    expect(sha256(bob.disk.finals().get('mixed.bin')!)).toBe(sha256(data));
  });

  it('a sink that hashes what it stores (the web worker) hashes every block, and resumes after a kill, a power cut or garbage', async () => {
    for (const crash of ['kill', 'power-loss', 'garbage'] as const) {
      const windowBytes = MiB;
      const checkpointBytes = 512 * KiB;
      const alice = await createPeer('alice', { windowBytes });
      let bob = await createPeer('bob', { windowBytes, checkpointBytes });
      bob.disk.hashesStored = true;
      const data = randomBytes(9 * MiB + 333, 30);
      const conn = connect(alice, bob, { latencyMs: 2, windowBytes: 512 * KiB });
      const name = `stored-${crash}.bin`;
      const offer = await sendOne(alice, name, data);
      await progressPast(bob, offer.offerId, 5 * MiB);
      conn.crash(bob);
      bob = await restart(bob, { windowBytes, checkpointBytes, crash });
      connect(alice, bob, { latencyMs: 2, windowBytes: 512 * KiB });
      expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
      await bob.engine.idle();
      expect(sha256(bob.disk.finals().get(name)!)).toBe(sha256(data));
      // Nine whole blocks and the last partial one at least, all hashed by the store.
      expect(bob.disk.rangesHashed).toBeGreaterThanOrEqual(10);
      expect(alice.engine.stats.chunkBytesSent - data.length).toBeLessThanOrEqual(
        windowBytes + 2 * checkpointBytes + 2 * CHUNK,
      );
    }
  });

  it('resumes after the sender restarts', async () => {
    let alice = await createPeer('alice');
    const bob = await createPeer('bob');
    const data = randomBytes(12 * MiB, 15);
    const conn = connect(alice, bob, { latencyMs: 2, windowBytes: 512 * KiB });
    const offer = await sendOne(alice, 'big.bin', data);
    await progressPast(bob, offer.offerId, 6 * MiB);
    conn.crash(alice);
    expect(alice.engine.stats.chunkBytesSent).toBeLessThan(data.length);
    const sentBefore = alice.engine.stats.chunkBytesSent;
    alice = await restart(alice);
    expect(alice.engine.get(offer.offerId)!.state).toBe('active');
    connect(alice, bob, { latencyMs: 2, windowBytes: 512 * KiB });
    expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
    await bob.engine.idle();
    expect(sha256(bob.disk.finals().get('big.bin')!)).toBe(sha256(data));
    expect(sentBefore + alice.engine.stats.chunkBytesSent - data.length).toBeLessThanOrEqual(4 * MiB + CHUNK);
  });

  it('refuses to resume from a source file that changed', async () => {
    let alice = await createPeer('alice');
    const bob = await createPeer('bob');
    const data = randomBytes(8 * MiB, 16);
    alice.sources.add('/src/big.bin', data, { mtime: 1000 });
    const conn = connect(alice, bob, { latencyMs: 2, windowBytes: 512 * KiB });
    const [offer] = await alice.engine.send('bob', [
      { relativePath: 'big.bin', source: '/src/big.bin', size: data.length, mtime: 1000 },
    ]);
    await progressPast(bob, offer!.offerId, 2 * MiB);
    conn.crash(alice);
    alice = await restart(alice);
    alice.sources.add('/src/big.bin', data, { mtime: 5000 });
    connect(alice, bob);
    const done = await settled(alice.engine, offer!.offerId);
    expect(done.files[0]!.state).toBe('failed');
    expect(done.files[0]!.error?.code).toBe('source-changed');
    const theirs = await settled(bob.engine, offer!.offerId);
    expect(theirs.files[0]!.state).toBe('failed');
    expect(bob.disk.finals().size).toBe(0);
  });

  it('asks again from the gap when a chunk goes missing', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob');
    const data = randomBytes(4 * MiB, 17);
    const conn = connect(alice, bob);
    let chunks = 0;
    conn.link.a.fault = (frame) => (frame[0] === FRAME_CHUNK && ++chunks === 10 ? null : frame);
    const offer = await sendOne(alice, 'gap.bin', data);
    expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
    await bob.engine.idle();
    expect(sha256(bob.disk.finals().get('gap.bin')!)).toBe(sha256(data));
    expect(bob.engine.stats.resumeRequests).toBe(1);
  });

  it('answers a gap even while the sender is blocked on its window', async () => {
    const alice = await createPeer('alice', { chunkBytes: 65488, windowBytes: 2 * 65488 });
    const bob = await createPeer('bob');
    const data = randomBytes(2 * MiB, 30);
    const conn = connect(alice, bob, { latencyMs: 2 });
    let chunks = 0;
    conn.link.a.fault = (frame) => (frame[0] === FRAME_CHUNK && ++chunks === 2 ? null : frame);
    const offer = await sendOne(alice, 'gap-blocked.bin', data);
    expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
    await bob.engine.idle();
    expect(sha256(bob.disk.finals().get('gap-blocked.bin')!)).toBe(sha256(data));
    expect(alice.engine.stats.windowWaitMs).toBeGreaterThan(0);
  });

  it('fails verification on a corrupted chunk and does not call the file complete', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob');
    const data = randomBytes(2 * MiB, 18);
    const conn = connect(alice, bob);
    let chunks = 0;
    conn.link.a.fault = (frame) => {
      if (frame[0] === FRAME_CHUNK && ++chunks === 5) frame[CHUNK_HEADER_BYTES + 100]! ^= 0xff;
      return frame;
    };
    const offer = await sendOne(alice, 'bad.bin', data);
    const mine = await settled(alice.engine, offer.offerId);
    expect(mine.files[0]!.state).toBe('failed');
    expect(mine.files[0]!.error?.code).toBe('verify-failed');
    const theirs = await settled(bob.engine, offer.offerId);
    expect(theirs.files[0]!.state).toBe('failed');
    expect(theirs.files[0]!.savedAs).toBeUndefined();
    await bob.engine.idle();
    expect(bob.disk.finals().size).toBe(0);
    expect(bob.errors.some((e) => e.code === 'verify-failed')).toBe(true);
  });

  it('pauses on a full disk keeping the partial, then resumes once there is room', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob');
    bob.disk.capacity = 3 * MiB;
    const data = randomBytes(8 * MiB, 19);
    connect(alice, bob, { latencyMs: 1 });
    const offer = await sendOne(alice, 'big.bin', data);
    const error = await waitFor(bob.engine, 'error', (e) => e.code === 'disk-full');
    expect(error.message).toMatch(/disk full/);
    await waitFor(alice.engine, 'state', (s) => s.offerId === offer.offerId && s.state === 'paused');
    expect(alice.engine.get(offer.offerId)!.error?.code).toBe('disk-full');
    await bob.engine.idle();
    expect(bob.engine.get(offer.offerId)!.state).toBe('paused');
    expect(bob.disk.partials()).toHaveLength(1);
    expect(bob.disk.used()).toBe(3 * MiB);

    bob.disk.capacity = Infinity;
    bob.engine.resume(offer.offerId);
    expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
    await bob.engine.idle();
    expect(sha256(bob.disk.finals().get('big.bin')!)).toBe(sha256(data));
    // The 3 MiB on disk were kept: only what was in flight when the disk filled was sent again.
    expect(alice.engine.stats.chunkBytesSent - data.length).toBeLessThanOrEqual(4 * MiB + CHUNK);
    expect(bob.engine.stats.duplicateBytes).toBe(0);
  });

  it('fails an unreadable source file clearly and still sends the others', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob');
    alice.sources.add('bad', randomBytes(2 * MiB, 20), { failAt: MiB });
    alice.sources.add('good', randomBytes(300_000, 21));
    connect(alice, bob);
    const [offer] = await alice.engine.send('bob', [
      { relativePath: 'bad.bin', source: 'bad', size: 2 * MiB },
      { relativePath: 'missing.bin', source: 'nowhere', size: 10 },
      { relativePath: 'good.bin', source: 'good', size: 300_000 },
    ]);
    const done = await settled(alice.engine, offer!.offerId);
    expect(done.files.map((f) => [f.state, f.error?.code])).toEqual([
      ['failed', 'source-unreadable'],
      ['failed', 'source-unreadable'],
      ['verified', undefined],
    ]);
    expect(done.files[0]!.error?.message).toMatch(/I\/O error/);
    const theirs = await settled(bob.engine, offer!.offerId);
    expect(theirs.files.map((f) => f.state)).toEqual(['failed', 'failed', 'verified']);
    await bob.engine.idle();
    expect([...bob.disk.finals().keys()]).toEqual(['good.bin']);
    expect(bob.disk.partials()).toEqual([]);
  });

  it('reads ahead of the chunk it sends, four reads at once, in order', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob');
    alice.sources.readDelayMs = 2;
    connect(alice, bob, { latencyMs: 0 });
    const data = randomBytes(4 * MiB + 777, 23);
    const offer = await sendOne(alice, 'ahead.bin', data);
    expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
    await bob.engine.idle();
    expect(sha256(bob.disk.finals().get('ahead.bin')!)).toBe(sha256(data));
    expect(alice.sources.maxReading).toBe(4);
    expect(alice.engine.stats.chunkBytesSent).toBe(data.length);
  });

  it('builds chunk frames around what a framed source read (no copy), verified end to end', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob');
    alice.sources.framed = true;
    connect(alice, bob, { latencyMs: 0 });
    const data = randomBytes(3 * MiB + 12_345, 31);
    const offer = await sendOne(alice, 'framed.bin', data);
    expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
    await bob.engine.idle();
    expect(sha256(bob.disk.finals().get('framed.bin')!)).toBe(sha256(data));
    expect(alice.sources.framedReads).toBe(Math.ceil(data.length / CHUNK));
    expect(alice.sources.plainReads).toBe(0);
  });

  it('bounds what is in flight by the window however slow the disk', async () => {
    const windowBytes = 512 * KiB;
    const alice = await createPeer('alice', { windowBytes });
    const bob = await createPeer('bob', { windowBytes });
    bob.disk.writeDelayMs = 1;
    let worst = 0;
    bob.disk.onWrite = () => {
      worst = Math.max(worst, alice.engine.stats.chunkBytesSent - bob.disk.bytesWritten);
    };
    connect(alice, bob, { latencyMs: 0, windowBytes: 64 * MiB });
    const offer = await sendOne(alice, 'slow.bin', randomBytes(6 * MiB, 22));
    expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(windowBytes + CHUNK);
  });

  it('acks often enough for a sender whose window is smaller than the receiver would ack', async () => {
    const alice = await createPeer('alice', { chunkBytes: 65488, windowBytes: 2 * 65488 });
    const bob = await createPeer('bob', { ackBytes: MiB });
    connect(alice, bob);
    const offer = await sendOne(alice, 'small-window.bin', randomBytes(3 * MiB, 29));
    expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
  });

  it('never overwrites an existing file with the same name', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob');
    connect(alice, bob);
    const first = await sendOne(alice, 'same.txt', randomBytes(1000, 23), 'one');
    await settled(alice.engine, first.offerId);
    const second = await sendOne(alice, 'same.txt', randomBytes(1000, 24), 'two');
    await settled(alice.engine, second.offerId);
    await bob.engine.idle();
    expect(bob.engine.get(second.offerId)!.files[0]!.savedAs).toBe('same.txt (1)');
    expect(sha256(bob.disk.finals().get('same.txt')!)).toBe(sha256(alice.sources.files.get('one')!.data));
  });

  it('offers made while the contact is offline go out when it attaches', async () => {
    const alice = await createPeer('alice');
    const bob = await createPeer('bob');
    const offer = await sendOne(alice, 'later.bin', randomBytes(50_000, 25));
    expect(alice.engine.get(offer.offerId)!.state).toBe('offered');
    connect(alice, bob);
    expect((await settled(alice.engine, offer.offerId)).files[0]!.state).toBe('verified');
  });

  it('reports progress with speed, ETA and path', async () => {
    // A clock that moves 5 ms per reading: with Date.now(), the in-memory link can deliver every ack
    // in the same millisecond, leaving no interval to measure a speed over (a flaky failure in CI).
    let clock = 0;
    const alice = await createPeer('alice', { progressIntervalMs: 0, now: () => (clock += 5) });
    const bob = await createPeer('bob');
    connect(alice, bob, { latencyMs: 1 });
    const events: Array<{ bytesDone: number; speed: number; eta: number | null; path: string }> = [];
    alice.engine.on('progress', (p) => events.push(p));
    const offer = await sendOne(alice, 'p.bin', randomBytes(4 * MiB, 26));
    await settled(alice.engine, offer.offerId);
    expect(events.length).toBeGreaterThan(3);
    const bytes = events.map((e) => e.bytesDone);
    expect(bytes).toEqual([...bytes].sort((x, y) => x - y));
    expect(events.at(-1)!.bytesDone).toBe(4 * MiB);
    expect(events.at(-1)!.eta).toBe(0);
    expect(events.some((e) => e.speed > 0 && e.eta !== null && e.eta > 0)).toBe(true);
    expect(new Set(events.map((e) => e.path))).toEqual(new Set(['direct']));
  });
});
