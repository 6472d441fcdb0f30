// The relay's frame tap (signaling/server/frame-tap.ts) in front of a real `ws` receiver: binary frames are
// taken whole however the socket splits them, everything else reaches `ws` intact and in order, and the limits
// `ws` enforces (maximum payload, close) still apply.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { FrameSplitter, unmask } from '../../../signaling/server/frame-tap.js';

interface ReceiverLike {
  write(chunk: Uint8Array): boolean;
  on(event: string, listener: (...args: unknown[]) => void): void;
}
// `ws` exports its receiver (wrapper.mjs); its types do not declare it.
const Receiver = (ws as unknown as { Receiver: new (options: object) => ReceiverLike }).Receiver;

/** A client frame as a browser or `ws` client writes it: masked with `mask` (all zero: our Node client). */
function frame(opcode: number, payload: Buffer, { fin = true, mask = randomBytes(4) } = {}): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 0x10000 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + 4);
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = 0x80 | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  mask.copy(head, 2 + ext);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ mask[i & 3]!;
  return Buffer.concat([head, body]);
}

/** A splitter in front of a real server-side `ws` receiver; every event, tapped or not, in one log. */
function harness(maxPayload = 300 * 1024, native = true) {
  const log: string[] = [];
  const errors: string[] = [];
  const receiver = new Receiver({ isServer: true, maxPayload, binaryType: 'nodebuffer', allowSynchronousEvents: true });
  receiver.on('message', (data, isBinary) =>
    log.push(`${isBinary ? 'ws-binary' : 'text'}:${hash(Buffer.concat([data as Buffer].flat()))}`),
  );
  receiver.on('ping', (data) => log.push(`ping:${(data as Buffer).toString()}`));
  receiver.on('conclude', (code) => log.push(`close:${String(code)}`));
  receiver.on('error', (err) => errors.push((err as Error & { code: string }).code));
  // The relay's unmasking (bufferutil), or the splitter's own JavaScript one.
  const splitter = native
    ? new FrameSplitter((chunk) => receiver.write(chunk), maxPayload, true, unmask)
    : new FrameSplitter((chunk) => receiver.write(chunk), maxPayload);
  splitter.onBinary = (parts, length) => {
    expect(parts.reduce((n, p) => n + p.length, 0)).toBe(length);
    log.push(`tapped:${hash(Buffer.concat(parts))}`);
  };
  return { log, errors, splitter };
}

function hash(b: Buffer): string {
  return `${b.length}/${b.subarray(0, 4).toString('hex')}${b.subarray(-4).toString('hex')}`;
}

/** Pushes `stream` in pieces ending at the given cut points. */
function pushCut(splitter: FrameSplitter, stream: Buffer, cuts: number[]): void {
  let at = 0;
  for (const cut of [...cuts, stream.length]) {
    if (cut > at) splitter.push(stream.subarray(at, cut));
    at = Math.max(at, cut);
  }
}

describe('relay frame tap', () => {
  const big = randomBytes(256 * 1024 + 44);
  const mid = randomBytes(300);
  const small = randomBytes(5);
  const text = Buffer.from('{"type":"ping","ref":"r1"}');
  const frag1 = randomBytes(70_000);
  const frag2 = randomBytes(10);
  const stream = () =>
    Buffer.concat([
      frame(1, text),
      frame(2, big),
      frame(9, Buffer.from('hb')),
      frame(2, mid, { mask: Buffer.alloc(4) }),
      frame(2, frag1, { fin: false }),
      frame(9, Buffer.from('in-between')),
      frame(0, frag2),
      frame(2, small),
      frame(1, text, { mask: Buffer.alloc(4) }),
    ]);
  const expected = [
    `text:${hash(text)}`,
    `tapped:${hash(big)}`,
    'ping:hb',
    `tapped:${hash(mid)}`,
    'ping:in-between',
    `ws-binary:${hash(Buffer.concat([frag1, frag2]))}`,
    `tapped:${hash(small)}`,
    `text:${hash(text)}`,
  ];

  it('takes whole binary frames (masked or not) and gives ws everything else in order, in one chunk', () => {
    const { log, errors, splitter } = harness();
    splitter.push(stream());
    expect(errors).toEqual([]);
    expect(log).toEqual(expected);
  });

  it('gives the same result however the socket splits the stream (headers and payloads across chunks)', () => {
    const bytes = stream();
    const patterns: number[][] = [];
    for (const size of [1, 2, 3, 7, 13, 1000, 65_536]) {
      const cuts: number[] = [];
      // Byte-by-byte everywhere would be slow for 256 KiB: small sizes cut the first 200 bytes and the tail.
      for (let at = size; at < bytes.length; at += size) {
        if (size < 1000 && at > 200 && at < bytes.length - 71_000) at = bytes.length - 71_000;
        cuts.push(at);
      }
      patterns.push(cuts);
    }
    for (let r = 0; r < 20; r++) {
      patterns.push(Array.from({ length: 30 }, () => Math.floor(Math.random() * bytes.length)).sort((x, y) => x - y));
    }
    for (const [i, cuts] of patterns.entries()) {
      const { log, errors, splitter } = harness(300 * 1024, i % 2 === 0);
      pushCut(splitter, Buffer.from(bytes), cuts);
      expect(errors).toEqual([]);
      expect(log).toEqual(expected);
    }
  });

  it('before it is armed, binary frames reach ws as usual', () => {
    const { log, splitter } = harness();
    splitter.onBinary = null;
    splitter.push(Buffer.concat([frame(2, mid), frame(1, text)]));
    expect(log).toEqual([`ws-binary:${hash(mid)}`, `text:${hash(text)}`]);
  });

  it('leaves an oversized frame to ws, which refuses it (1009), and takes nothing after it', async () => {
    const { log, errors, splitter } = harness(1024);
    splitter.push(Buffer.concat([frame(2, mid), frame(2, randomBytes(2000)), frame(2, small)]));
    await new Promise((resolve) => setImmediate(resolve)); // a Writable's error event comes a tick later
    expect(log).toEqual([`tapped:${hash(mid)}`]);
    expect(errors).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
  });

  it('takes nothing after a close frame', () => {
    const { log, splitter } = harness();
    const close = Buffer.alloc(2);
    close.writeUInt16BE(1000, 0);
    splitter.push(Buffer.concat([frame(2, small), frame(8, close), frame(2, mid)]));
    expect(log).toEqual([`tapped:${hash(small)}`, 'close:1000']);
  });

  it('leaves unmasked client frames to ws, which refuses them', async () => {
    const { log, errors, splitter } = harness();
    const unmasked = Buffer.concat([Buffer.from([0x82, 5]), small]);
    splitter.push(unmasked);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual([]);
    expect(errors).toEqual(['WS_ERR_EXPECTED_MASK']);
  });
});
