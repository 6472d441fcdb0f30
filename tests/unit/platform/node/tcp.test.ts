// The direct TCP path over real loopback sockets: the relay transport's signed key agreement and AES-GCM
// records run over length-framed TCP (platform/node/src/tcp + core/src/session/tcp-path.ts). A wrong key,
// a replayed or truncated message, garbage and silence are refused; nothing of theirs is delivered.
import { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../../core/src/identity/keys.js';
import { RelayTransport } from '../../../../core/src/session/relay-transport.js';
import { TcpAccept, connectTcp, type TcpHint } from '../../../../core/src/session/tcp-path.js';
import type { FrameTransport } from '../../../../core/src/session/transport.js';
import { nodeAead } from '../../../../platform/node/src/aead.js';
import { TcpFrameSocket, nodeTcp } from '../../../../platform/node/src/tcp/index.js';

let alice: IdentityKeyPair;
let bob: IdentityKeyPair;
let mallory: IdentityKeyPair;
beforeAll(async () => {
  [alice, bob, mallory] = await Promise.all([
    generateIdentityKeyPair({ extractable: false }),
    generateIdentityKeyPair({ extractable: false }),
    generateIdentityKeyPair({ extractable: false }),
  ]);
});

const SID = 'tcp-test-sid-0001';
const tcp = nodeTcp({ addresses: () => ['127.0.0.1'] });
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function opts(self: IdentityKeyPair, peer: IdentityKeyPair, handshakeTimeoutMs = 3000) {
  return { identity: self, peerKey: peer.publicKey, peerId: peer.id, sid: SID, handshakeTimeoutMs, aead: nodeAead };
}

/** Bob listens (as the follower does) and accepts the first connection that verifies. */
async function bobListens(
  handshakeTimeoutMs = 3000,
  listenMs = 10_000,
): Promise<{ accept: TcpAccept; hints: TcpHint[] }> {
  const listener = await tcp.listen();
  const accept = new TcpAccept(listener, opts(bob, alice, handshakeTimeoutMs), listenMs);
  accept.ready.catch(() => {});
  cleanups.push(() => accept.cancel('test over'));
  return { accept, hints: [...listener.hints] };
}

/** A loopback proxy in front of `target` whose client→server bytes pass through `tamper`. */
async function proxy(target: TcpHint, tamper: (chunk: Buffer, up: Socket) => void): Promise<TcpHint> {
  const server: Server = createServer((down) => {
    const up = connect(target.port, target.host);
    down.on('data', (c: Buffer) => tamper(c, up));
    up.on('data', (c: Buffer) => down.write(c));
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
    down.on('error', () => {});
    up.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => server.close());
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('no address');
  return { host: '127.0.0.1', port: a.port };
}

function collect(t: FrameTransport): { frames: string[]; closed: Promise<string> } {
  const frames: string[] = [];
  t.onFrame((f) => frames.push(new TextDecoder().decode(f)));
  return { frames, closed: new Promise((r) => t.onClose(r)) };
}

function nextFrame(t: FrameTransport): Promise<string> {
  return new Promise((resolve) => {
    const off = t.onFrame((f) => {
      off();
      resolve(new TextDecoder().decode(f));
    });
  });
}

describe('TCP path: handshake and records over real sockets', () => {
  it('listens only on the addresses given and carries frames both ways once both sides verified', async () => {
    const { accept, hints } = await bobListens();
    expect(hints).toHaveLength(1);
    expect(hints[0]!.host).toBe('127.0.0.1');
    const [a, b] = await Promise.all([connectTcp(tcp, hints, opts(alice, bob)), accept.ready]);
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    expect(a.path).toBe('tcp');
    const got = nextFrame(b);
    a.send(new TextEncoder().encode('hello bob'));
    expect(await got).toBe('hello bob');
    const back = nextFrame(a);
    b.send(new TextEncoder().encode('hello alice'));
    expect(await back).toBe('hello alice');
    // A big frame crosses several TCP reads and is reassembled whole.
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    const received = new Promise<Uint8Array>((r) => {
      const off = b.onFrame((f) => {
        off();
        r(f);
      });
    });
    a.send(big);
    expect(Buffer.compare(await received, big)).toBe(0);
  });

  it('hands each opened record back to the TCP socket for reuse; frames stay whole', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => server.close());
    const port = (server.address() as { port: number }).port;
    const accepted = new Promise<Socket>((r) => server.once('connection', r));
    const raw = connect(port, '127.0.0.1');
    const [down, up] = [new TcpFrameSocket(await accepted), new TcpFrameSocket(raw)];
    const released: Uint8Array[] = [];
    const release = down.release.bind(down);
    down.release = (frame) => {
      released.push(frame);
      release(frame);
    };
    const o = { sessionId: SID, handshakeTimeoutMs: 3000, aead: nodeAead, path: 'tcp' as const };
    const [a, b] = await Promise.all([
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
      () => a.close(),
      () => b.close(),
    );
    const sums: number[] = [];
    const all = new Promise<void>((r) =>
      b.onFrame((f) => {
        sums.push(f.reduce((x, y) => x + y, 0));
        if (sums.length === 6) r();
      }),
    );
    for (let i = 1; i <= 6; i++) {
      a.send(new Uint8Array(200_000).fill(i));
      await new Promise((r) => setImmediate(r)); // one record each
    }
    await all;
    expect(sums).toEqual([1, 2, 3, 4, 5, 6].map((i) => i * 200_000));
    expect(released.length).toBeGreaterThanOrEqual(6);
  });

  it('refuses a connector that holds another key (wrong key): neither side gets a transport', async () => {
    const { accept, hints } = await bobListens();
    // Mallory claims to be alice's peer with her own key: bob expects alice's signature.
    await expect(connectTcp(tcp, hints, opts(mallory, bob))).rejects.toThrow();
    let resolved = false;
    accept.ready.then(
      () => (resolved = true),
      () => {},
    );
    // And alice, connecting with the wrong idea of bob's key, is refused too.
    await expect(
      connectTcp(tcp, hints, { ...opts(alice, bob), peerKey: mallory.publicKey, peerId: mallory.id }),
    ).rejects.toThrow();
    expect(resolved).toBe(false);
    // The listener still accepts the right peer afterwards.
    const [a, b] = await Promise.all([connectTcp(tcp, hints, opts(alice, bob)), accept.ready]);
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    expect(b.closed).toBe(false);
  });

  it('drops garbage at once and silence at the deadline', async () => {
    const { accept, hints } = await bobListens(400);
    const hint = hints[0]!;
    const garbage = connect(hint.port, hint.host);
    garbage.on('error', () => {});
    garbage.resume(); // read, so the close is seen
    const garbageClosed = new Promise<void>((r) => garbage.on('close', () => r()));
    garbage.write(Buffer.from([0, 0, 0, 5, 1, 2, 3, 4, 5]));
    await garbageClosed;
    const silent = connect(hint.port, hint.host);
    silent.on('error', () => {});
    silent.resume(); // read, so the close is seen
    const t0 = Date.now();
    await new Promise<void>((r) => silent.on('close', () => r()));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    // A length far beyond one record is refused without reading it.
    const huge = connect(hint.port, hint.host);
    huge.on('error', () => {});
    huge.resume(); // read, so the close is seen
    const hugeClosed = new Promise<void>((r) => huge.on('close', () => r()));
    huge.write(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    await hugeClosed;
    let resolved = false;
    accept.ready.then(
      () => (resolved = true),
      () => {},
    );
    expect(resolved).toBe(false);
  });

  it('closes on a replayed record and delivers it only once', async () => {
    const { accept, hints } = await bobListens();
    let messages = 0;
    let kept: Buffer | null = null;
    // Messages are [u32 length][sealed]; the proxy sends alice's 3rd message (the first record after the
    // handshake and the key confirmation) twice. Small writes with setNoDelay: one message per chunk here,
    // which the test checks before relying on it.
    const via = await proxy(hints[0]!, (chunk, up) => {
      up.write(chunk);
      if (chunk.readUInt32BE(0) === 0) return; // a keepalive
      expect(chunk.readUInt32BE(0)).toBe(chunk.length - 4);
      if (++messages === 3) {
        kept = Buffer.from(chunk);
        up.write(kept);
      }
    });
    const [a, b] = await Promise.all([connectTcp(tcp, [via], opts(alice, bob)), accept.ready]);
    cleanups.push(() => a.close());
    const { frames, closed } = collect(b);
    a.send(new TextEncoder().encode('once'));
    expect(await closed).toMatch(/refused/);
    expect(kept).not.toBeNull();
    expect(frames).toEqual(['once']);
  });

  it('a message cut short (truncated, then the connection ends) is never delivered', async () => {
    const { accept, hints } = await bobListens();
    let messages = 0;
    const via = await proxy(hints[0]!, (chunk, up) => {
      if (chunk.readUInt32BE(0) !== 0 && ++messages === 3) {
        up.end(chunk.subarray(0, chunk.length - 7)); // all but the last 7 bytes, then FIN
        return;
      }
      up.write(chunk);
    });
    const [a, b] = await Promise.all([connectTcp(tcp, [via], opts(alice, bob)), accept.ready]);
    cleanups.push(() => a.close());
    const { frames, closed } = collect(b);
    a.send(new TextEncoder().encode('cut'));
    expect(await closed).toMatch(/TCP connection closed/);
    expect(frames).toEqual([]);
  });

  it('a modified record (one bit flipped) is refused', async () => {
    const { accept, hints } = await bobListens();
    let messages = 0;
    const via = await proxy(hints[0]!, (chunk, up) => {
      if (chunk.readUInt32BE(0) !== 0 && ++messages === 3) {
        const c = Buffer.from(chunk);
        c[c.length - 1]! ^= 1;
        up.write(c);
        return;
      }
      up.write(chunk);
    });
    const [a, b] = await Promise.all([connectTcp(tcp, [via], opts(alice, bob)), accept.ready]);
    cleanups.push(() => a.close());
    const { frames, closed } = collect(b);
    a.send(new TextEncoder().encode('flip'));
    expect(await closed).toMatch(/refused/);
    expect(frames).toEqual([]);
  });
});

describe('TCP framing: messages out of the kernel chunks however they are cut', () => {
  /** The part of a net.Socket TcpFrameSocket uses; chunks are pushed exactly as given. */
  class ChunkSocket extends EventEmitter {
    writableLength = 0;
    setNoDelay(): void {}
    write(): boolean {
      return true;
    }
    destroy(): void {}
  }

  function frames(messages: Uint8Array[]): Buffer {
    return Buffer.concat(
      messages.flatMap((m) => {
        const head = Buffer.alloc(4);
        head.writeUInt32BE(m.length);
        return [head, Buffer.from(m)];
      }),
    );
  }

  it('delivers each message whole and once, whether it sits in one chunk or spans several', () => {
    const messages = [300_000, 1, 17, 65_536, 0, 5, 200_000].map((n, i) =>
      Uint8Array.from({ length: n }, (_, j) => (i * 31 + j) & 0xff),
    );
    const wire = frames(messages);
    const expected = messages.filter((m) => m.length > 0).map((m) => Buffer.from(m).toString('hex'));
    for (const cut of [1, 3, 4, 5, 4099, 65_536, wire.length]) {
      const raw = new ChunkSocket();
      const socket = new TcpFrameSocket(raw as unknown as Socket, { maxMessageBytes: 400_000 });
      const got: string[] = [];
      socket.onFrame((m) => got.push(Buffer.from(m).toString('hex')));
      // A fresh buffer per chunk, as the kernel's reads arrive.
      for (let at = 0; at < wire.length; at += cut) raw.emit('data', Buffer.from(wire.subarray(at, at + cut)));
      socket.close();
      expect(got).toEqual(expected);
    }
  });

  it('reuses a message buffer the consumer released, never one it still holds, nor a view of a chunk', () => {
    const raw = new ChunkSocket();
    const socket = new TcpFrameSocket(raw as unknown as Socket);
    const got: Uint8Array[] = [];
    socket.onFrame((m) => got.push(m));
    const send = (fill: number, cut: number) => {
      const wire = frames([new Uint8Array(100_000).fill(fill)]);
      for (let at = 0; at < wire.length; at += cut) raw.emit('data', Buffer.from(wire.subarray(at, at + cut)));
    };
    send(1, 65_536); // spans chunks: a buffer of the socket's own
    send(2, 65_536); // the first is still held: a new buffer
    expect(got[1]!.buffer).not.toBe(got[0]!.buffer);
    socket.release(got[0]!);
    send(3, 65_536); // reuses the released one
    expect(got[2]!.buffer).toBe(got[0]!.buffer);
    expect(got[2]!.every((b) => b === 3)).toBe(true);
    expect(got[1]!.every((b) => b === 2)).toBe(true);
    send(4, 1_000_000); // one chunk: a view of it, which release() ignores
    socket.release(got[3]!);
    send(5, 65_536);
    expect(got[4]!.buffer).not.toBe(got[3]!.buffer);
    expect(got[3]!.every((b) => b === 4)).toBe(true);
    socket.close();
  });

  it('refuses a message longer than the limit, whichever chunk its length arrives in', () => {
    for (const cut of [2, 4, 100]) {
      const raw = new ChunkSocket();
      const socket = new TcpFrameSocket(raw as unknown as Socket, { maxMessageBytes: 1000 });
      const got: Uint8Array[] = [];
      socket.onFrame((m) => got.push(m));
      const wire = frames([new Uint8Array(10), new Uint8Array(1001), new Uint8Array(10)]);
      for (let at = 0; at < wire.length && !socket.closed; at += cut)
        raw.emit('data', Buffer.from(wire.subarray(at, at + cut)));
      expect(got).toHaveLength(1);
      expect(socket.closeReason).toMatch(/1001 bytes/);
    }
  });
});
