// RelayTransport: frames sent in one tick travel in shared sealed records, in order and exactly once;
// replayed, modified or malformed records close the transport with a reason and deliver nothing of theirs.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as nodeCrypto from 'node:crypto';
import { CHANNEL_HEADER_BYTES } from '../../../../signaling/protocol/index.js';
import { silentLogger, startRelay, type RunningRelay } from '../../../../signaling/server/index.js';

import {
  MAX_RECORD_FRAME,
  RECORD_FRAMES,
  cipherAead,
  createHandshake,
  packRecord,
  packedSize,
  type AeadEngine,
  type EstablishedChannel,
} from '../../../../core/src/crypto/index.js';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/keys.js';
import { RelayChannelSocket, type ChannelHost } from '../../../../core/src/relay/channel.js';
import type { RelayClient } from '../../../../core/src/relay/index.js';
import { RelayTransport } from '../../../../core/src/session/relay-transport.js';
import { fromUtf8, utf8 } from '../../../../core/src/util/bytes.js';
import { onlineRelayClient } from '../../../helpers/relay/online-client.js';

let alice: IdentityKeyPair;
let bob: IdentityKeyPair;
beforeAll(async () => {
  [alice, bob] = await Promise.all([
    generateIdentityKeyPair({ extractable: false }),
    generateIdentityKeyPair({ extractable: false }),
  ]);
});

/**
 * One end of an in-memory relay channel: what it sends reaches the other end's socket in order, a
 * macrotask later (as from a network). `filter` sees every payload on its way and may drop, change or
 * repeat it (a hostile relay).
 */
class MemoryHost implements ChannelHost {
  other!: MemoryHost;
  socket!: RelayChannelSocket;
  /** Payloads sent (after the filter), handshake and key confirmation included. */
  readonly sent: Uint8Array[] = [];
  filter: (payload: Uint8Array, index: number) => Uint8Array[] = (p) => [p];
  bufferedAmount = 0;
  #count = 0;

  sendFrame(_channel: number, payload: Uint8Array): void {
    for (const p of this.filter(payload.slice(), this.#count++)) {
      this.sent.push(p);
      setImmediate(() => this.other.socket.deliver(p));
    }
  }

  sendFramed(channel: number, frame: Uint8Array): void {
    expect(frame.length).toBeGreaterThanOrEqual(CHANNEL_HEADER_BYTES);
    this.sendFrame(channel, frame.subarray(CHANNEL_HEADER_BYTES));
  }

  closeChannel(): void {
    setImmediate(() => this.other.socket.closedByRelay('closed by peer'));
  }
}

function memoryChannel(): { a: MemoryHost; b: MemoryHost } {
  const a = new MemoryHost();
  const b = new MemoryHost();
  a.other = b;
  b.other = a;
  a.socket = new RelayChannelSocket(a, 7, bob.id, 'tag');
  b.socket = new RelayChannelSocket(b, 7, alice.id, 'tag');
  return { a, b };
}

const SID = 'relay-transport-test-session';
const transports: RelayTransport[] = [];
afterEach(() => {
  for (const t of transports.splice(0)) t.close('test over');
});

async function transportPair(lowWaterBytes?: number, aliceAead?: AeadEngine) {
  const { a, b } = memoryChannel();
  const lw = lowWaterBytes === undefined ? {} : { lowWaterBytes };
  const aead = aliceAead ? { aead: aliceAead } : {};
  const [ta, tb] = await Promise.all([
    RelayTransport.establish({
      socket: a.socket,
      identity: alice,
      peerKey: bob.publicKey,
      peerId: bob.id,
      sessionId: SID,
      role: 'initiator',
      ...lw,
      ...aead,
    }),
    RelayTransport.establish({
      socket: b.socket,
      identity: bob,
      peerKey: alice.publicKey,
      peerId: alice.id,
      sessionId: SID,
      role: 'responder',
      ...lw,
    }),
  ]);
  transports.push(ta, tb);
  return { a, b, ta, tb };
}

/** A transport whose peer is the test itself, holding the peer's channel keys: it can seal any record. */
async function transportWithRawPeer() {
  const { a, b } = memoryChannel();
  const peerHs = await createHandshake({
    identity: bob,
    peerKey: alice.publicKey,
    peerId: alice.id,
    sessionId: SID,
    role: 'responder',
  });
  const fromTransport: Uint8Array[] = [];
  let wake: (() => void) | null = null;
  b.socket.onFrame((m) => {
    fromTransport.push(m);
    wake?.();
  });
  const established = RelayTransport.establish({
    socket: a.socket,
    identity: alice,
    peerKey: bob.publicKey,
    peerId: bob.id,
    sessionId: SID,
    role: 'initiator',
  });
  b.socket.send(utf8(JSON.stringify(peerHs.message)));
  while (fromTransport.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  const peer: EstablishedChannel = await peerHs.complete(JSON.parse(fromUtf8(fromTransport[0]!)));
  b.socket.send(await peer.confirmation());
  while (fromTransport.length < 2) await new Promise<void>((resolve) => (wake = resolve));
  await peer.checkConfirmation(fromTransport[1]!);
  const transport = await established;
  transports.push(transport);
  const closed = new Promise<string>((resolve) => transport.onClose(resolve));
  const frames: number[][] = [];
  transport.onFrame((f) => frames.push([...f]));
  /** Seals `plain` as the peer and sends it to the transport. */
  const sendRecord = async (plain: Uint8Array) => b.socket.send(await peer.seal(plain));
  return { transport, closed, frames, sendRecord };
}

function collect(t: RelayTransport) {
  const frames: Uint8Array[] = [];
  let expected = Infinity;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => (done = resolve));
  t.onFrame((f) => {
    frames.push(f);
    if (frames.length >= expected) done();
  });
  return {
    frames,
    until(n: number) {
      expected = n;
      if (frames.length >= n) done();
      return all;
    },
  };
}

/** Deterministic content: frame i is (i mod 251) repeated, of the given size. */
const frameOf = (i: number, size: number) => new Uint8Array(size).fill(i % 251);
const recordsOf = (host: MemoryHost) => host.sent.length - 2; // minus the handshake and the key confirmation

describe('RelayTransport records', () => {
  it('packs frames sent in one tick into few records and delivers each frame once, in order', async () => {
    const { a, ta, tb } = await transportPair();
    const got = collect(tb);
    const sizes = Array.from({ length: 400 }, (_, i) => (i % 50 === 0 ? 60_000 : (i * 37) % 3000));
    sizes.forEach((size, i) => ta.send(frameOf(i, size)));
    await got.until(sizes.length);
    expect(got.frames.map((f) => f.length)).toEqual(sizes);
    got.frames.forEach((f, i) =>
      expect(
        f.every((b) => b === i % 251),
        `frame ${i}`,
      ).toBe(true),
    );
    // 400 frames, about 1.1 MB: five records of at most 256 KiB, where one record per frame was sent before.
    expect(recordsOf(a)).toBeLessThanOrEqual(6);
    expect(ta.stats).toMatchObject({ framesSent: 400, recordsSent: recordsOf(a) });
    expect(tb.stats).toMatchObject({ framesReceived: 400, recordsReceived: recordsOf(a) });
  });

  it('splits a burst larger than one record across records, keeping the order across them', async () => {
    const { a, ta, tb } = await transportPair();
    const got = collect(tb);
    for (let i = 0; i < 12; i++) ta.send(frameOf(i, 100_000));
    // The largest frame travels alone, between two bursts.
    ta.send(frameOf(12, MAX_RECORD_FRAME));
    ta.send(frameOf(13, 5));
    await got.until(14);
    expect(got.frames.map((f) => f[0])).toEqual([...Array(14).keys()]);
    expect(got.frames[12]!.length).toBe(MAX_RECORD_FRAME);
    expect(recordsOf(a)).toBe(8); // 2 × 100 kB per record, then the big one, then the small one
  });

  it('keeps packing frames sent while a record is being sealed, across ticks', async () => {
    const { a, ta, tb } = await transportPair();
    const got = collect(tb);
    ta.send(frameOf(0, 10));
    // Microtask hops: the first record is being sealed meanwhile, so these join one later record.
    for (let i = 1; i <= 20; i++) {
      await Promise.resolve();
      ta.send(frameOf(i, 10));
    }
    await got.until(21);
    expect(got.frames.map((f) => f[0])).toEqual([...Array(21).keys()]);
    expect(recordsOf(a)).toBeLessThan(21);
  });

  it('counts frames not yet handed to the relay as buffered and fires drain once they are', async () => {
    const { ta, tb } = await transportPair(1000);
    const got = collect(tb);
    expect(ta.bufferedAmount).toBe(0);
    const drained = new Promise<void>((resolve) => ta.onDrain(resolve));
    for (let i = 0; i < 10; i++) ta.send(frameOf(i, 500));
    expect(ta.bufferedAmount).toBe(5000);
    await drained;
    expect(ta.bufferedAmount).toBe(0);
    await got.until(10);
  });

  it('refuses a frame too large for a record: send throws and the transport closes', async () => {
    const { ta } = await transportPair();
    const closed = new Promise<string>((resolve) => ta.onClose(resolve));
    expect(() => ta.send(new Uint8Array(MAX_RECORD_FRAME + 1))).toThrow(/at most/);
    expect(await closed).toMatch(/cannot send a frame of \d+ bytes/);
    expect(() => ta.send(new Uint8Array(1))).toThrow(/closed/);
  });

  it("interoperates when one side seals and opens with Node's synchronous AES-GCM", async () => {
    const { ta, tb } = await transportPair(undefined, cipherAead(nodeCrypto));
    const toBob = collect(tb);
    const toAlice = collect(ta);
    for (let i = 0; i < 50; i++) ta.send(frameOf(i, 7000));
    tb.send(frameOf(200, 3));
    await Promise.all([toBob.until(50), toAlice.until(1)]);
    toBob.frames.forEach((f, i) => expect(f.length === 7000 && f.every((b) => b === i % 251), `frame ${i}`).toBe(true));
    expect([...toAlice.frames[0]!]).toEqual([200, 200, 200]);
  });

  it('keeps frames that arrive before the first frame handler', async () => {
    const { ta, tb } = await transportPair();
    ta.send(frameOf(1, 3));
    ta.send(frameOf(2, 3));
    // Until Bob's transport has opened both frames (no handler yet): they must wait for it, not be lost.
    for (let turn = 0; tb.stats.framesReceived < 2; turn++) {
      expect(turn, 'frames never arrived').toBeLessThan(10_000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const got = collect(tb);
    expect(got.frames.map((f) => f[0])).toEqual([1, 2]); // handed over synchronously by onFrame
  });
});

describe('RelayTransport refusals', () => {
  it('a replayed initiator handshake (and its old key confirmation) never brings the channel up', async () => {
    // A real session first: the relay records what Alice sent (her signed handshake, her confirmation).
    const first = await transportPair();
    const [oldHandshake, oldConfirmation] = first.a.sent;
    // Later, the relay opens a channel to Bob with the same session id and plays Alice from its recording.
    const { b } = memoryChannel();
    const bobSide = RelayTransport.establish({
      socket: b.socket,
      identity: bob,
      peerKey: alice.publicKey,
      peerId: alice.id,
      sessionId: SID,
      role: 'responder',
    });
    b.socket.deliver(oldHandshake!);
    b.socket.deliver(oldConfirmation!);
    const error = await bobSide.then(
      () => null,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(error, 'the replayed handshake brought the channel up').not.toBeNull();
    expect(error!.code).toBe('key-confirmation');
    expect(b.socket.closed).toBe(true);
  });

  it('tells a peer on the old handshake version what is wrong', async () => {
    const { b } = memoryChannel();
    const bobSide = RelayTransport.establish({
      socket: b.socket,
      identity: bob,
      peerKey: alice.publicKey,
      peerId: alice.id,
      sessionId: SID,
      role: 'responder',
    });
    b.socket.deliver(
      utf8(
        JSON.stringify({
          v: 1,
          sessionId: SID,
          role: 'initiator',
          ephPub: [{ alg: 'X25519', pub: 'AAAA' }],
          sig: 'AAAA',
        }),
      ),
    );
    await expect(bobSide).rejects.toMatchObject({
      code: 'version',
      message: expect.stringMatching(
        /speaks secure channel v1; this one speaks v2\. The contact needs to update Parley/,
      ),
    });
  });

  it('closes on a replayed record and delivers its frames only once', async () => {
    const { a, ta, tb } = await transportPair();
    a.filter = (p, i) => (i === 2 ? [p, p] : [p]); // 0 is the handshake, 1 the key confirmation
    const got = collect(tb);
    const closed = new Promise<string>((resolve) => tb.onClose(resolve));
    ta.send(frameOf(1, 10));
    ta.send(frameOf(2, 10));
    expect(await closed).toMatch(/refused a relay record: replay/);
    expect(got.frames.map((f) => f[0])).toEqual([1, 2]);
  });

  it('closes on a modified record and delivers nothing of it', async () => {
    const { a, ta, tb } = await transportPair();
    a.filter = (p, i) => {
      if (i === 3) p[p.length - 20]! ^= 1;
      return [p];
    };
    const got = collect(tb);
    const closed = new Promise<string>((resolve) => tb.onClose(resolve));
    ta.send(frameOf(1, 10));
    await got.until(1);
    ta.send(frameOf(2, 10));
    ta.send(frameOf(3, 10));
    expect(await closed).toMatch(/refused a relay record: authentication failed/);
    expect(got.frames.map((f) => f[0])).toEqual([1]);
  });

  it('closes on an authentic record whose packing is malformed, with the reason', async () => {
    const cases: Array<[number[], RegExp]> = [
      [[RECORD_FRAMES, 0, 0, 0, 9, 1], /malformed relay record: A frame of 9 bytes at offset 1 runs past the end/],
      [[RECORD_FRAMES], /malformed relay record: A record carries no frame/],
      [[RECORD_FRAMES, 0, 0, 0, 1, 5, 0], /malformed relay record: A record ends inside a frame length/],
      [[0x7f, 0, 0, 0, 0], /malformed relay record: Unknown record type 0x7f/],
    ];
    for (const [record, reason] of cases) {
      const peer = await transportWithRawPeer();
      await peer.sendRecord(packRecord([new Uint8Array([42])], 0, 1, 1 + packedSize(1)));
      await peer.sendRecord(new Uint8Array(record));
      await peer.sendRecord(packRecord([new Uint8Array([43])], 0, 1, 1 + packedSize(1)));
      expect(await peer.closed).toMatch(reason);
      expect(peer.transport.closed).toBe(true);
      expect(peer.frames).toEqual([[42]]);
    }
  });

  it('stops delivering the rest of a record when a frame handler closes the transport', async () => {
    const peer = await transportWithRawPeer();
    const frames = [1, 2, 3].map((x) => new Uint8Array([x]));
    let seen = 0;
    peer.transport.onFrame(() => {
      if (++seen === 2) peer.transport.close('enough');
    });
    await peer.sendRecord(packRecord(frames, 0, 3, 1 + 3 * packedSize(1)));
    expect(await peer.closed).toBe('enough');
    expect(peer.frames).toEqual([[1], [2]]);
  });
});

describe('RelayTransport through a real relay', () => {
  let relay: RunningRelay | null = null;
  const clients: RelayClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await relay?.close();
    relay = null;
  });

  function online(identity: IdentityKeyPair, url: string): Promise<RelayClient> {
    return onlineRelayClient(identity, url, (c) => clients.push(c));
  }

  it('sends 2,000 frames written in one tick in far fewer relay messages, in order and exactly once', async () => {
    relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger });
    const [ca, cb] = await Promise.all([online(alice, relay.url), online(bob, relay.url)]);
    const [sa, sb] = await Promise.all([ca.openChannel(bob.id, SID), cb.openChannel(alice.id, SID)]);
    const [ta, tb] = await Promise.all([
      RelayTransport.establish({
        socket: sa,
        identity: alice,
        peerKey: bob.publicKey,
        peerId: bob.id,
        sessionId: SID,
        role: 'initiator',
      }),
      RelayTransport.establish({
        socket: sb,
        identity: bob,
        peerKey: alice.publicKey,
        peerId: alice.id,
        sessionId: SID,
        role: 'responder',
      }),
    ]);
    transports.push(ta, tb);
    const got = collect(tb);
    const before = relay.stats().framesForwarded;
    const count = 2000;
    for (let i = 0; i < count; i++) {
      const frame = new Uint8Array(4 + (i % 200));
      new DataView(frame.buffer).setUint32(0, i, false);
      ta.send(frame);
    }
    await got.until(count);
    const order = got.frames.map((f) => new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(0, false));
    expect(order).toEqual([...Array(count).keys()]);
    got.frames.forEach((f, i) => expect(f.length).toBe(4 + (i % 200)));
    const messages = relay.stats().framesForwarded - before;
    expect(messages).toBe(ta.stats.recordsSent);
    expect(messages).toBeLessThanOrEqual(3); // about 210 kB: one record of 256 KiB, or two
  });

  it("over Node's ws, records leave as the cipher's pieces, gather-written, and arrive intact", async () => {
    relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger });
    const [ca, cb] = await Promise.all([online(alice, relay.url), online(bob, relay.url)]);
    const [sa, sb] = await Promise.all([ca.openChannel(bob.id, SID), cb.openChannel(alice.id, SID)]);
    // The channel over a connection that gather-writes offers sendParts; count what goes through it.
    const gather = sa.sendParts;
    expect(gather).toBeTypeOf('function');
    const pieces: number[] = [];
    (sa as { sendParts?: (parts: readonly Uint8Array[]) => void }).sendParts = (parts) => {
      pieces.push(parts.length);
      gather!(parts);
    };
    const aead = cipherAead(nodeCrypto);
    const [ta, tb] = await Promise.all([
      RelayTransport.establish({
        socket: sa,
        identity: alice,
        peerKey: bob.publicKey,
        peerId: bob.id,
        sessionId: SID,
        role: 'initiator',
        aead,
      }),
      RelayTransport.establish({
        socket: sb,
        identity: bob,
        peerKey: alice.publicKey,
        peerId: alice.id,
        sessionId: SID,
        role: 'responder',
        aead,
      }),
    ]);
    transports.push(ta, tb);
    const got = collect(tb);
    const count = 48;
    for (let i = 0; i < count; i++) ta.send(frameOf(i, 64 * 1024 + i));
    await got.until(count);
    got.frames.forEach((f, i) => expect(Buffer.compare(f, frameOf(i, 64 * 1024 + i))).toBe(0));
    // Every record went as [counter, ciphertext, tag] (3 pieces), none joined into one buffer first.
    expect(pieces.length).toBe(ta.stats.recordsSent);
    expect(pieces.every((n) => n === 3)).toBe(true);
  });
});
