// nodeWebSocketFactory: binary frames carry an all-zero mask (no masked copy of a record), text frames a
// random one, and both arrive intact at a real ws server.
import { createServer, type Server, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { nodeWebSocketFactory } from '../../../../platform/node/src/websocket.js';
import type { WebSocketLike } from '../../../../core/src/platform/types.js';

interface SeenFrame {
  opcode: number;
  mask: number[];
  payload: Buffer;
}

/** A bare WebSocket server on a socket: answers the upgrade, then records each client frame's mask. */
function rawServer(onFrame: (f: SeenFrame) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((socket: Socket) => {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const key = /sec-websocket-key: *(\S+)/i.exec(buf.subarray(0, end).toString())![1]!;
        const accept = createHash('sha1')
          .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
          .digest('base64');
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
        );
        upgraded = true;
        buf = buf.subarray(end + 4);
      }
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1]! & 0x7f;
        let at = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          at = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          at = 10;
        }
        if (buf.length < at + 4 + len) return;
        const mask = [...buf.subarray(at, at + 4)];
        const payload = Buffer.from(buf.subarray(at + 4, at + 4 + len));
        for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
        onFrame({ opcode: buf[0]! & 0x0f, mask, payload });
        buf = buf.subarray(at + 4 + len);
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })),
  );
}

function opened(ws: WebSocketLike): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('did not open'));
  });
}

describe('nodeWebSocketFactory', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  it('sends binary frames with an all-zero mask and text frames with a random mask', async () => {
    const frames: SeenFrame[] = [];
    let got: () => void = () => {};
    const all = new Promise<void>((resolve) => (got = resolve));
    const { server, port } = await rawServer((f) => {
      frames.push(f);
      if (frames.length === 4) got();
    });
    cleanup.push(() => server.close());
    const ws = nodeWebSocketFactory(`ws://127.0.0.1:${port}/`);
    cleanup.push(() => ws.close());
    await opened(ws);
    const record = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
    ws.send('{"type":"hello"}');
    ws.send(record);
    ws.send('{"type":"bye"}');
    ws.send(record.subarray(5, 100));
    await all;
    expect(frames.map((f) => f.opcode)).toEqual([1, 2, 1, 2]);
    expect(frames[1]!.mask).toEqual([0, 0, 0, 0]);
    expect(frames[3]!.mask).toEqual([0, 0, 0, 0]);
    // Four random bytes are all zero once in 2^32: two text frames both zero would be a bug.
    expect([...frames[0]!.mask, ...frames[2]!.mask].some((b) => b !== 0)).toBe(true);
    expect(frames[0]!.payload.toString()).toBe('{"type":"hello"}');
    expect(Buffer.compare(frames[1]!.payload, Buffer.from(record))).toBe(0);
    expect(Buffer.compare(frames[3]!.payload, Buffer.from(record.subarray(5, 100)))).toBe(0);
    // The caller's buffer is not modified (ws masks in place only a buffer it owns).
    expect(record[1]).toBe(7);
  });

  it('a ws server (as the relay runs it) receives zero-masked binary frames intact', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    cleanup.push(() => wss.close());
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const received = new Promise<Buffer>((resolve) =>
      wss.on('connection', (c) => c.on('message', (data) => resolve(data as Buffer))),
    );
    const ws = nodeWebSocketFactory(`ws://127.0.0.1:${(wss.address() as { port: number }).port}/`);
    cleanup.push(() => ws.close());
    await opened(ws);
    const record = new Uint8Array(300_000).map((_, i) => (i * 13) & 0xff);
    const written = new Promise<Error | undefined>((resolve) => ws.send(record, resolve));
    expect(Buffer.compare(await received, Buffer.from(record))).toBe(0);
    // The write callback still reaches the caller (core's backpressure relies on it).
    expect(await written).toBeFalsy();
  });

  it('sendParts: one zero-masked binary frame of the pieces, in order with send(), callback after the write', async () => {
    const frames: SeenFrame[] = [];
    let got: () => void = () => {};
    const all = new Promise<void>((resolve) => (got = resolve));
    const { server, port } = await rawServer((f) => {
      frames.push(f);
      if (frames.length === 5) got();
    });
    cleanup.push(() => server.close());
    const ws = nodeWebSocketFactory(`ws://127.0.0.1:${port}/`);
    cleanup.push(() => ws.close());
    await opened(ws);
    const piece = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * seed) & 0xff);
    // Lengths on each side of the 7-bit, 16-bit and 64-bit length encodings, empty pieces included.
    const messages = [
      [piece(4, 3), piece(100, 5), piece(0, 1), piece(16, 7)],
      [piece(4, 3), piece(65_000, 11), piece(600, 13), piece(16, 7)],
      [piece(4, 3), piece(262_144, 17), piece(16, 7), piece(0, 1)],
    ];
    const written = new Promise<Error | undefined>((resolve) => ws.sendParts!(messages[0]!, resolve));
    ws.send('{"type":"between"}');
    ws.sendParts!(messages[1]!);
    ws.send(piece(10, 19));
    ws.sendParts!(messages[2]!);
    await all;
    expect(await written).toBeFalsy();
    expect(frames.map((f) => f.opcode)).toEqual([2, 1, 2, 2, 2]);
    const binaries = [frames[0]!, frames[2]!, frames[4]!];
    binaries.forEach((f, i) => {
      expect(f.mask).toEqual([0, 0, 0, 0]);
      expect(Buffer.compare(f.payload, Buffer.concat(messages[i]!))).toBe(0);
    });
    expect(Buffer.compare(frames[3]!.payload, Buffer.from(piece(10, 19)))).toBe(0);
  });

  it('delivers binary messages whole and in order with text, reusing a released buffer for the next', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    cleanup.push(() => wss.close());
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const record = (seed: number) => Buffer.alloc(262_200).map((_, i) => (i * seed) & 0xff);
    wss.on('connection', (c) => {
      c.send('{"type":"first"}');
      c.send(record(3));
      c.send('{"type":"second"}');
      c.send(record(5));
      c.send(record(7));
      c.send(Buffer.from([1, 2, 3]));
    });
    const ws = nodeWebSocketFactory(`ws://127.0.0.1:${(wss.address() as { port: number }).port}/`);
    cleanup.push(() => ws.close());
    const got: unknown[] = [];
    let done: () => void = () => {};
    const all = new Promise<void>((resolve) => (done = resolve));
    let firstBuffer: ArrayBufferLike | null = null;
    ws.onmessage = (ev) => {
      const data = ev.data;
      if (typeof data === 'string') got.push(data);
      else {
        const bytes = data as Uint8Array;
        got.push(Buffer.from(bytes));
        // The consumer is done with the first record at once: the next one of its size reuses its memory.
        if (firstBuffer === null) {
          firstBuffer = bytes.buffer;
          ws.release!(bytes.subarray(4));
        } else if (bytes.length === 262_200) got.push(bytes.buffer === firstBuffer ? 'reused' : 'fresh');
      }
      if (got.length === 8) done();
    };
    await all;
    expect(got).toEqual([
      '{"type":"first"}',
      record(3),
      '{"type":"second"}',
      record(5),
      'reused',
      record(7),
      'fresh', // the record before it was not released
      Buffer.from([1, 2, 3]),
    ]);
  });
});
