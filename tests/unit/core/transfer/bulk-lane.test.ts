import { describe, expect, it } from 'vitest';
import { createAeadChannel, CryptoError } from '../../../../core/src/crypto/index.js';
import {
  BULK_SHARE_BYTES,
  deriveLaneKey,
  laneTag,
  newBulkShare,
  type LaneKeyInput,
  type LaneRole,
} from '../../../../core/src/transfer/bulk-key.js';
import {
  ConnectorHandshake,
  FINISH_BYTES,
  HELLO_BYTES,
  ListenerHandshake,
  decodeHello,
  type LaneKeys,
} from '../../../../core/src/transfer/bulk-handshake.js';
import {
  BulkLaneError,
  LANE_HEADER_BYTES,
  MAX_FAIL_REASON_BYTES,
  MAX_LANE_DATA,
  allocDataFrame,
  decodeLaneFrame,
  encodeLaneFrame,
  type LaneFrame,
} from '../../../../core/src/transfer/bulk-frame.js';
import { LaneReceiveState, LaneSendState } from '../../../../core/src/transfer/bulk-state.js';
import { decodeFrame } from '../../../../core/src/transfer/protocol.js';
import { toBase64url } from '../../../../signaling/protocol/index.js';

/** Small seeded PRNG (mulberry32): property runs are reproducible from the seed in the failure message. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function refusal(run: () => unknown): BulkLaneError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BulkLaneError);
    return error as BulkLaneError;
  }
  throw new Error('accepted');
}

async function refusedAsync(run: () => Promise<unknown>): Promise<BulkLaneError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(BulkLaneError);
    return error as BulkLaneError;
  }
  throw new Error('accepted');
}

const keyInput = (): LaneKeyInput => ({
  sessionId: 'sid-1',
  offerId: 'AAAAAAAAAAAAAAAAAAAAAA',
  fileId: 3,
  senderShare: newBulkShare(),
  receiverShare: newBulkShare(),
});

async function handshake(
  connectorKey: Uint8Array,
  listenerKey: Uint8Array,
  connectorRole: LaneRole = 'sender',
  listenerRole: LaneRole = 'receiver',
): Promise<{ connector: LaneKeys; listener: LaneKeys }> {
  const tag = await laneTag(listenerKey);
  const c = new ConnectorHandshake(connectorKey, connectorRole);
  const l = new ListenerHandshake();
  const hello = await c.hello();
  // The listener finds the key by the tag a real listener would have registered: here, its own key's tag
  // answers for any tag (so a connector with another key gets past the lookup and meets the MAC check).
  const { proof } = await l.hello(hello, (t) =>
    t.length === tag.length ? { key: listenerKey, role: listenerRole } : undefined,
  );
  const { finish, keys: connector } = await c.proof(proof);
  const listener = await l.finish(finish);
  return { connector, listener };
}

/** A sealing channel for `side`'s role built from its keys, as the Node lane does. */
function channel(keys: LaneKeys) {
  const { toReceiver, toSender } = keys.directions;
  return createAeadChannel({
    sessionId: 'bulk',
    send: keys.role === 'sender' ? toReceiver : toSender,
    receive: keys.role === 'sender' ? toSender : toReceiver,
  });
}

describe('bulk lane keys', () => {
  it('both sides derive one key from the two shares, bound to session, offer and file', async () => {
    const input = keyInput();
    const key = await deriveLaneKey(input);
    expect(key.length).toBe(32);
    expect(await deriveLaneKey({ ...input })).toEqual(key);
    for (const change of [
      { sessionId: 'sid-2' },
      { offerId: 'AAAAAAAAAAAAAAAAAAAAAQ' },
      { fileId: 4 },
      { senderShare: newBulkShare() },
      { receiverShare: newBulkShare() },
      // The shares' order matters: the sender's share is never taken for the receiver's.
      { senderShare: input.receiverShare, receiverShare: input.senderShare },
    ])
      expect(await deriveLaneKey({ ...input, ...change })).not.toEqual(key);
  });

  it('refuses shares of the wrong length and a fileId that is not a u32', async () => {
    await expect(deriveLaneKey({ ...keyInput(), senderShare: new Uint8Array(BULK_SHARE_BYTES - 1) })).rejects.toThrow(
      /sender share must be 32 bytes/,
    );
    await expect(deriveLaneKey({ ...keyInput(), fileId: -1 })).rejects.toThrow(/u32/);
  });
});

describe('bulk lane handshake', () => {
  it('confirms the key both ways and gives both ends the same per-connection record secrets', async () => {
    const key = await deriveLaneKey(keyInput());
    const first = await handshake(key, key);
    expect(first.connector.role).toBe('sender');
    expect(first.listener.role).toBe('receiver');
    expect(first.connector.directions).toEqual(first.listener.directions);
    expect(first.connector.tag).toEqual(await laneTag(key));
    // A second connection on the same lane gets other secrets: counters start at 0 again without reusing a nonce.
    const second = await handshake(key, key);
    expect(second.connector.directions.toReceiver.base).not.toEqual(first.connector.directions.toReceiver.base);

    const sender = channel(first.connector);
    const receiver = channel(first.listener);
    const record = await sender.seal(encodeLaneFrame({ kind: 'data', offset: 0, data: new Uint8Array([1, 2, 3]) }));
    expect(decodeLaneFrame(await receiver.open(record))).toEqual({
      kind: 'data',
      offset: 0,
      data: new Uint8Array([1, 2, 3]),
    });
    const back = await receiver.seal(encodeLaneFrame({ kind: 'ack', offset: 3 }));
    expect(decodeLaneFrame(await sender.open(back))).toEqual({ kind: 'ack', offset: 3 });
  });

  it('refuses a wrong key at either end before any record', async () => {
    const key = await deriveLaneKey(keyInput());
    const other = await deriveLaneKey(keyInput());
    // The listener holds another key: the connector refuses its proof.
    expect((await refusedAsync(() => handshake(other, key))).code).toBe('bad-key');
    // A connector that knows the tag (it is public) but not the key: the listener refuses its finish.
    const tag = await laneTag(key);
    const l = new ListenerHandshake();
    const forged = await new ConnectorHandshake(other, 'sender').hello();
    forged.set(tag, 6); // the right tag, another key behind it
    const { proof } = await l.hello(forged, (t) => (equal(t, tag) ? { key, role: 'receiver' } : undefined));
    expect(proof.length).toBeGreaterThan(0);
    const finish = new Uint8Array(FINISH_BYTES);
    finish[0] = 0x03;
    expect((await refusedAsync(() => l.finish(finish))).code).toBe('bad-key');
  });

  it('refuses an unknown tag, both ends claiming one role, a replayed proof and malformed messages', async () => {
    const key = await deriveLaneKey(keyInput());
    const hello = await new ConnectorHandshake(key, 'sender').hello();
    expect((await refusedAsync(() => new ListenerHandshake().hello(hello, () => undefined))).code).toBe('unknown-lane');
    expect((await refusedAsync(() => handshake(key, key, 'sender', 'sender'))).code).toBe('bad-role');

    // A proof recorded from one connection does not pass on another (fresh connector nonce).
    const a = new ConnectorHandshake(key, 'sender');
    const { proof } = await new ListenerHandshake().hello(await a.hello(), () => ({ key, role: 'receiver' }));
    const b = new ConnectorHandshake(key, 'sender');
    await b.hello();
    expect((await refusedAsync(() => b.proof(proof))).code).toBe('bad-key');

    for (const bad of [hello.subarray(0, HELLO_BYTES - 1), new Uint8Array(HELLO_BYTES), withByte(hello, 5, 7)])
      expect(refusal(() => decodeHello(bad)).code).toBe('bad-handshake');
    expect(decodeHello(hello).role).toBe('sender');
    // Out of order: a proof before hello.
    expect((await refusedAsync(() => new ConnectorHandshake(key, 'sender').proof(proof))).code).toBe('bad-handshake');
  });

  it('records on the lane: truncated, modified, replayed and reordered ones are refused', async () => {
    const key = await deriveLaneKey(keyInput());
    const { connector, listener } = await handshake(key, key);
    const sender = channel(connector);
    const frames = await Promise.all(
      [0, 1, 2].map((i) => sender.seal(encodeLaneFrame({ kind: 'data', offset: i, data: new Uint8Array([i]) }))),
    );
    const open = async (records: Uint8Array[]) => {
      const receiver = channel(listener);
      for (const r of records) await receiver.open(r);
    };
    await open(frames); // in order: fine
    const code = async (records: Uint8Array[]) => {
      try {
        await open(records);
      } catch (error) {
        expect(error).toBeInstanceOf(CryptoError);
        return (error as CryptoError).code;
      }
      return 'accepted';
    };
    expect(await code([frames[0]!, frames[0]!])).toBe('replay');
    expect(await code([frames[1]!, frames[0]!])).toBe('replay');
    expect(await code([frames[0]!.subarray(0, frames[0]!.length - 1)])).toBe('authentication-failed');
    expect(await code([withByte(frames[0]!, 9, frames[0]![9]! ^ 1)])).toBe('authentication-failed');
    // A record of this connection does not open on another connection of the same lane.
    const again = await handshake(key, key);
    try {
      await channel(again.listener).open(frames[0]!);
      throw new Error('accepted');
    } catch (error) {
      expect((error as CryptoError).code).toBe('authentication-failed');
    }
  });
});

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function withByte(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const out = bytes.slice();
  out[at] = value;
  return out;
}

describe('bulk lane frames', () => {
  it('round-trips every kind of frame (property, 1000 seeded cases)', () => {
    const seed = 0x5eed;
    const random = prng(seed);
    for (let i = 0; i < 1000; i++) {
      const offset = Math.floor(random() * Number.MAX_SAFE_INTEGER * (random() < 0.5 ? 1e-9 : 0.5));
      const kind = Math.floor(random() * 4);
      let frame: LaneFrame;
      if (kind === 0) frame = { kind: 'start', offset };
      else if (kind === 1) frame = { kind: 'ack', offset };
      else if (kind === 2) {
        const data = new Uint8Array(1 + Math.floor(random() ** 4 * (MAX_LANE_DATA - 1)));
        for (let j = 0; j < data.length; j += 97) data[j] = Math.floor(random() * 256);
        frame = { kind: 'data', offset: Math.min(offset, Number.MAX_SAFE_INTEGER - data.length), data };
      } else {
        frame = {
          kind: 'fail',
          reason: String.fromCharCode(
            ...Array.from({ length: Math.floor(random() * 60) }, () => 32 + Math.floor(random() * 90)),
          ),
        };
      }
      const decoded = decodeLaneFrame(encodeLaneFrame(frame));
      // Bytes compared natively: toEqual walks a 256 KiB array element by element.
      if (frame.kind === 'data' && decoded.kind === 'data') {
        expect(decoded.offset, `seed ${seed} case ${i}`).toBe(frame.offset);
        expect(Buffer.compare(decoded.data, frame.data), `seed ${seed} case ${i}`).toBe(0);
      } else expect(decoded, `seed ${seed} case ${i}`).toEqual(frame);
    }
  });

  it('any byte string either decodes to a frame that encodes back to it, or is refused as bad-frame (property)', () => {
    const seed = 0xb17e;
    const random = prng(seed);
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const bytes = new Uint8Array(Math.floor(random() * 24));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      if (bytes.length > 0 && random() < 0.7) bytes[0] = 1 + Math.floor(random() * 4);
      if (bytes.length > 1 && random() < 0.7) bytes[1] = 0; // offsets inside 2^53 more often
      let frame: LaneFrame;
      try {
        frame = decodeLaneFrame(bytes);
      } catch (error) {
        expect(error, `seed ${seed} case ${i}`).toBeInstanceOf(BulkLaneError);
        expect((error as BulkLaneError).code).toBe('bad-frame');
        continue;
      }
      accepted += 1;
      expect([...encodeLaneFrame(frame)], `seed ${seed} case ${i}`).toEqual([...bytes]);
    }
    expect(accepted).toBeGreaterThan(100); // not vacuous: many strings are frames
  });

  it('refuses empty, oversized, trailing and out-of-range frames', () => {
    const data = allocDataFrame(5, 3);
    expect(decodeLaneFrame(data)).toMatchObject({ kind: 'data', offset: 5 });
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0, 0]),
      new Uint8Array(LANE_HEADER_BYTES).fill(0).map((_, i) => (i === 0 ? 2 : 0)), // DATA with no bytes
      new Uint8Array(LANE_HEADER_BYTES + MAX_LANE_DATA + 1).map((_, i) => (i === 0 ? 2 : 0)),
      new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), // START with a trailing byte
      new Uint8Array([3, 0, 0x20, 0, 0, 0, 0, 0, 0]), // ACK beyond 2^53
      new Uint8Array([2, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 1]), // DATA past 2^53
      new Uint8Array([4, 0xff]), // FAIL, not UTF-8
      new Uint8Array(2 + MAX_FAIL_REASON_BYTES).fill(0x41).map((x, i) => (i === 0 ? 4 : x)),
    ];
    for (const bytes of cases) expect(refusal(() => decodeLaneFrame(bytes)).code).toBe('bad-frame');
    expect(() => allocDataFrame(0, MAX_LANE_DATA + 1)).toThrow(RangeError);
    expect(() => allocDataFrame(-1, 1)).toThrow(RangeError);
    expect(() => encodeLaneFrame({ kind: 'start', offset: 1.5 })).toThrow(RangeError);
  });
});

describe('bulk lane state', () => {
  const data = (offset: number, length: number): LaneFrame => ({ kind: 'data', offset, data: new Uint8Array(length) });

  it('the receiver takes DATA only at the next offset and within the size, from where it started', () => {
    const r = new LaneReceiveState(10, 4);
    expect(r.start()).toEqual({ kind: 'start', offset: 4 });
    expect(r.receive(data(4, 3))).toMatchObject({ kind: 'write', offset: 4 });
    expect(refusal(() => r.receive(data(4, 3))).code).toBe('out-of-order'); // duplicate
    expect(refusal(() => r.receive(data(8, 1))).code).toBe('out-of-order'); // gap
    expect(refusal(() => r.receive(data(7, 4))).code).toBe('overrun');
    expect(refusal(() => r.receive({ kind: 'ack', offset: 7 })).code).toBe('bad-frame');
    expect(r.complete).toBe(false);
    r.receive(data(7, 3));
    expect(r.complete).toBe(true);
    expect(r.ack(10)).toEqual({ kind: 'ack', offset: 10 });
    expect(() => r.ack(9)).toThrow(RangeError);
    expect(r.receive({ kind: 'fail', reason: 'disk' })).toEqual({ kind: 'failed', reason: 'disk' });
    expect(() => new LaneReceiveState(10, 11)).toThrow(RangeError);
  });

  it('the sender starts where the receiver says and takes acknowledgements only forward and for bytes sent', () => {
    const s = new LaneSendState(10);
    expect(refusal(() => s.take(4)).code).toBe('out-of-order');
    expect(refusal(() => s.receive({ kind: 'ack', offset: 0 })).code).toBe('out-of-order');
    expect(refusal(() => new LaneSendState(10).receive({ kind: 'start', offset: 11 })).code).toBe('overrun');
    expect(s.receive({ kind: 'start', offset: 2 })).toEqual({ kind: 'started', offset: 2 });
    expect(refusal(() => s.receive({ kind: 'start', offset: 0 })).code).toBe('out-of-order');
    expect(s.take(4)).toEqual({ offset: 2, length: 4 });
    expect(refusal(() => s.receive({ kind: 'ack', offset: 7 })).code).toBe('overrun');
    s.receive({ kind: 'ack', offset: 6 });
    expect(refusal(() => s.receive({ kind: 'ack', offset: 5 })).code).toBe('out-of-order');
    expect(refusal(() => s.receive(data(0, 1))).code).toBe('bad-frame');
    expect(s.take(100)).toEqual({ offset: 6, length: 4 });
    expect(s.take(100)).toBeNull();
    expect(s.complete).toBe(false);
    s.receive({ kind: 'ack', offset: 10 });
    expect(s.complete).toBe(true);
  });

  it('an empty file is complete as soon as it starts', () => {
    const s = new LaneSendState(0);
    s.receive({ kind: 'start', offset: 0 });
    expect(s.take(10)).toBeNull();
    expect(s.complete).toBe(true);
    expect(new LaneReceiveState(0, 0).complete).toBe(true);
  });
});

describe('lane control messages', () => {
  const base = { t: 'lane', offerId: 'AAAAAAAAAAAAAAAAAAAAAA', fileId: 0, round: 1 } as const;
  const share = toBase64url(newBulkShare());
  const decode = (message: object) =>
    decodeFrame(new Uint8Array([1, ...new TextEncoder().encode(JSON.stringify(message))]));

  it('carries a share, hints and an offset, or nothing (a refusal)', () => {
    expect(decode({ ...base, share })).toMatchObject({ kind: 'control', message: { t: 'lane', share } });
    expect(decode({ ...base, share, hints: [{ host: '10.0.0.2', port: 40000 }], offset: 5 })).toMatchObject({
      message: { hints: [{ host: '10.0.0.2', port: 40000 }], offset: 5 },
    });
    expect(decode(base)).toMatchObject({ message: { t: 'lane' } });
  });

  it('refuses a share that is not 32 bytes, too many hints and bad ports', () => {
    for (const bad of [
      { ...base, share: share.slice(1) },
      { ...base, share: `${share.slice(0, 42)}B` }, // not canonical: bits past the 32nd byte
      { ...base, share, hints: Array.from({ length: 9 }, () => ({ host: '10.0.0.2', port: 4000 })) },
      { ...base, share, hints: [{ host: '10.0.0.2', port: 0 }] },
      { ...base, share, offset: -1 },
    ])
      expect(() => decode(bad)).toThrow(/bad control message/);
  });

  it('offers and accepts say bulk only as 1; a peer that does not know the field drops it', () => {
    const offer = {
      t: 'offer',
      v: 2,
      offerId: base.offerId,
      round: 1,
      files: [{ fileId: 0, relativePath: 'a', size: 1, mime: '' }],
      total: 1,
    };
    expect(decode({ ...offer, bulk: 1 })).toMatchObject({ message: { bulk: 1 } });
    expect(() => decode({ ...offer, bulk: 2 })).toThrow(/bad control message/);
    expect(decode(offer)).not.toHaveProperty('message.bulk');
  });
});
