// The desktop app's direct TCP path without Electron: the renderer's TcpPlatform (renderer/src/platform/
// bridge-tcp.ts) -> the preload's bridge -> (IPC as Electron does it: structured clone) -> the validated
// registry -> TcpSockets in main -> real loopback sockets, against the CLI's own nodeTcp on the other end.
// Validation, ownership, backpressure both ways and cleanup are checked at the main-side handler.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeTcp, BridgeTcpEvent } from '../../../core/src/bridge.js';
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../../core/src/identity/keys.js';
import { TcpAccept, connectTcp, type TcpListener, type TcpPlatform } from '../../../core/src/session/tcp-path.js';
import type { RecordSocket } from '../../../core/src/session/transport.js';
import { createValidatedIpc } from '../../../electron/main/ipc.js';
import {
  MAX_TCP_LISTENERS_PER_OWNER,
  TcpSockets,
  hintProblem,
  registerTcpIpc,
  type TcpSocketsOptions,
} from '../../../electron/main/tcp-sockets.js';
import { createTcp } from '../../../electron/preload/bridge.js';
import { MAX_TCP_RECORD_BYTES, RendererEvent, TcpChannel } from '../../../electron/shared/ipc-contract.js';
import { nodeAead } from '../../../platform/node/src/aead.js';
import { interfaceAddresses, nodeTcp } from '../../../platform/node/src/tcp/index.js';
import { loadRenderer } from '../renderer/load.js';
import { FakeIpcMain, FakeWebContents } from './fakes.js';

interface BridgeTcpModule {
  bridgeTcpPlatform(tcp: BridgeTcp): TcpPlatform;
}
let bridgeTcpPlatform: BridgeTcpModule['bridgeTcpPlatform'];
beforeAll(async () => {
  ({ bridgeTcpPlatform } = await loadRenderer<BridgeTcpModule>('platform/bridge-tcp.ts'));
});

const LOOPBACK = ['127.0.0.1'];
/** The contact's side: the CLI's sockets, on loopback. */
const peerTcp = nodeTcp({ addresses: () => LOOPBACK });
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** webContents.send -> ipcRenderer.on, per window, cloned as Electron's IPC does. */
class RendererEvents {
  readonly listeners = new Set<(...args: unknown[]) => void>();
  readonly log: BridgeTcpEvent[] = [];
  on(channel: string, l: (...args: unknown[]) => void): () => void {
    expect(channel).toBe(RendererEvent.Tcp);
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  send(event: unknown): void {
    const [copy] = structuredClone([event]);
    this.log.push(copy as BridgeTcpEvent);
    for (const l of this.listeners) l(copy);
  }
}

function stack(options: Partial<TcpSocketsOptions> = {}) {
  const ipcMain = new FakeIpcMain();
  const rejected: string[] = [];
  const ipc = createValidatedIpc({
    ipcMain,
    isAppWebContents: (wc) => wc.id === 1 || wc.id === 2,
    onRejected: (c, r) => rejected.push(`${c}: ${r}`),
  });
  const events = new Map<number, RendererEvents>([
    [1, new RendererEvents()],
    [2, new RendererEvents()],
  ]);
  const sockets = new TcpSockets({
    platform: nodeTcp({ addresses: () => LOOPBACK }),
    emit: (owner, event) => events.get(owner)?.send(event),
    // Loopback stands in for the LAN here; the default policy refuses it (tested below).
    hintPolicy: (host, port) => (host === '127.0.0.1' ? null : hintProblem(host, port)),
    ...options,
  });
  cleanups.push(() => sockets.releaseAll());
  registerTcpIpc(ipc, sockets);
  const window = (id: number) => {
    const wc = new FakeWebContents(id);
    const raw = (channel: string, ...args: unknown[]) => ipcMain.invoke(wc.event(), channel, ...args);
    const bridge = createTcp({ invoke: raw, on: (c, l) => events.get(id)!.on(c, l) });
    return { wc, raw, bridge, events: events.get(id)!, platform: bridgeTcpPlatform(bridge) };
  };
  return { ipcMain, rejected, sockets, one: window(1), two: window(2) };
}

/** The next connection a listener hands out. */
function nextConnection(listener: TcpListener): Promise<RecordSocket> {
  return new Promise((resolve) => {
    const off = listener.onConnection((s) => {
      off();
      resolve(s);
    });
  });
}

function collect(socket: RecordSocket, count: number): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  return new Promise((resolve, reject) => {
    socket.onFrame((f) => {
      got.push(f.slice());
      if (got.length === count) resolve(got);
    });
    socket.onClose((reason) => reject(new Error(`closed after ${got.length}: ${reason}`)));
  });
}

/** One digest per record: a deep toEqual of megabytes would block the loop for seconds (and trip idle timers). */
const digests = (list: Uint8Array[]): string[] => list.map((r) => createHash('sha256').update(r).digest('hex'));

const closed = (socket: RecordSocket): Promise<string> => new Promise((r) => socket.onClose(r));

/** Records of assorted sizes up to the largest one allowed. */
function records(n: number): Uint8Array[] {
  const sizes = [1, 7, 4096, 65_536, MAX_TCP_RECORD_BYTES, 200_000];
  return Array.from({ length: n }, (_, i) => new Uint8Array(randomBytes(sizes[i % sizes.length]!)));
}

async function peerListens(): Promise<TcpListener> {
  const l = await peerTcp.listen();
  cleanups.push(() => l.close());
  return l;
}

describe('the desktop TCP path: sockets in main, driven from the renderer', () => {
  it('renderer connects: records go both ways whole and in order, against the CLI sockets', async () => {
    const { one } = stack();
    const peer = await peerListens();
    const accepted = nextConnection(peer);
    const mine = await one.platform.connect(peer.hints, 3000);
    const theirs = await accepted;
    cleanups.push(() => theirs.close());

    const out = records(24);
    const back = records(18).reverse();
    const gotThere = collect(theirs, out.length);
    const gotHere = collect(mine, back.length);
    for (const r of out) mine.send(r);
    for (const r of back) theirs.send(r);
    expect(digests(await gotThere)).toEqual(digests(out));
    expect(digests(await gotHere)).toEqual(digests(back));

    // Closing from the renderer closes the connection the peer holds.
    const peerSaw = closed(theirs);
    mine.close();
    expect(await peerSaw).toMatch(/closed/);
  });

  it('renderer listens: main listens on the given addresses only, a CLI peer connects, the listener closes', async () => {
    const { one, sockets } = stack();
    const listener = await one.platform.listen();
    expect(listener.hints).toHaveLength(1);
    expect(listener.hints[0]!.host).toBe('127.0.0.1');
    expect(listener.hints[0]!.port).toBeGreaterThanOrEqual(1024);
    const accepted = nextConnection(listener);
    const theirs = await peerTcp.connect(listener.hints, 3000);
    cleanups.push(() => theirs.close());
    const mine = await accepted;
    const gotHere = collect(mine, 3);
    const sent = records(3);
    for (const r of sent) theirs.send(r);
    expect(digests(await gotHere)).toEqual(digests(sent));
    expect(sockets.count(1)).toEqual({ sockets: 1, listeners: 1 });

    listener.close();
    await expect.poll(() => sockets.count(1).listeners).toBe(0);
    await expect(peerTcp.connect(listener.hints, 3000)).rejects.toThrow(/refused/);
    // A connection already handed out stays.
    const more = collect(mine, 1);
    theirs.send(new Uint8Array([9]));
    expect(await more).toEqual([new Uint8Array([9])]);
  });

  it('the session handshake and AES-GCM records run over it unchanged, both roles, against nodeTcp', async () => {
    const [desk, cli] = await Promise.all([
      generateIdentityKeyPair({ extractable: false }),
      generateIdentityKeyPair({ extractable: false }),
    ]);
    const o = (self: IdentityKeyPair, peer: IdentityKeyPair) => ({
      identity: self,
      peerKey: peer.publicKey,
      peerId: peer.id,
      sid: 'desk-tcp-sid-0001',
      handshakeTimeoutMs: 3000,
      aead: nodeAead,
    });
    const { one } = stack();
    for (const [listenOn, connectWith, l, c] of [
      [one.platform, peerTcp, desk, cli],
      [peerTcp, one.platform, cli, desk],
    ] as const) {
      const listener = await listenOn.listen();
      const accept = new TcpAccept(listener, o(l, c), 10_000);
      cleanups.push(() => accept.cancel('test over'));
      const initiator = await connectTcp(connectWith, listener.hints, o(c, l));
      const responder = await accept.ready;
      cleanups.push(
        () => initiator.close(),
        () => responder.close(),
      );
      expect(initiator.path).toBe('tcp');
      const payload = new Uint8Array(randomBytes(300_000));
      const got = new Promise<Uint8Array>((r) => responder.onFrame((f) => r(f.slice())));
      initiator.send(payload.subarray(0, 200_000));
      expect(digests([await got])).toEqual(digests([payload.subarray(0, 200_000)]));
    }
  });

  it('a connection with the wrong key is refused over it, both roles; the right contact still verifies', async () => {
    const [desk, cli, mallory] = await Promise.all([
      generateIdentityKeyPair({ extractable: false }),
      generateIdentityKeyPair({ extractable: false }),
      generateIdentityKeyPair({ extractable: false }),
    ]);
    const o = (self: IdentityKeyPair, peer: IdentityKeyPair) => ({
      identity: self,
      peerKey: peer.publicKey,
      peerId: peer.id,
      sid: 'desk-tcp-sid-0002',
      handshakeTimeoutMs: 3000,
      aead: nodeAead,
    });
    const { one, sockets } = stack();
    // The desktop listens (through main): mallory, posing as nobody it knows, is dropped; then cli verifies.
    const listener = await one.platform.listen();
    const accept = new TcpAccept(listener, o(desk, cli), 10_000);
    cleanups.push(() => accept.cancel('test over'));
    await expect(connectTcp(peerTcp, listener.hints, o(mallory, desk))).rejects.toThrow();
    const initiator = await connectTcp(peerTcp, listener.hints, o(cli, desk));
    const responder = await accept.ready;
    cleanups.push(
      () => initiator.close(),
      () => responder.close(),
    );
    expect(responder.path).toBe('tcp');
    // Main kept only the verified connection: mallory's socket went with its refusal.
    await expect.poll(() => sockets.count(1).sockets).toBe(1);

    // The desktop connects (through main) to a listener that expects someone else: refused, nothing delivered.
    const peer = await peerListens();
    const wrong = new TcpAccept(peer, o(cli, mallory), 10_000);
    wrong.ready.catch(() => {});
    cleanups.push(() => wrong.cancel('test over'));
    await expect(connectTcp(one.platform, peer.hints, o(desk, cli))).rejects.toThrow();
    await expect.poll(() => sockets.count(1).sockets).toBe(1);
  });

  it('refuses malformed arguments at the boundary, and hints that are not a LAN unicast address', async () => {
    const { one, rejected } = stack({ hintPolicy: undefined });
    const bad: Array<[string, unknown[], RegExp]> = [
      [TcpChannel.Connect, [[{ host: 'example.com', port: 5000 }], 1000], /invalid arguments/],
      [TcpChannel.Connect, [[{ host: '10.0.0.1', port: 0 }], 1000], /invalid arguments/],
      [TcpChannel.Connect, [[], 1000], /invalid arguments/],
      [TcpChannel.Connect, [Array(9).fill({ host: '10.0.0.1', port: 5000 }), 1000], /invalid arguments/],
      [TcpChannel.Connect, [[{ host: '10.0.0.1', port: 5000, extra: 1 }], 1000], /invalid arguments/],
      [TcpChannel.Connect, [[{ host: '10.0.0.1', port: 5000 }], 60_000], /invalid arguments/],
      [TcpChannel.Connect, [[{ host: '127.0.0.1', port: 5000 }], 1000], /not a unicast address/],
      [TcpChannel.Connect, [[{ host: '10.0.0.1', port: 22 }], 1000], /privileged port/],
      [TcpChannel.Connect, [[{ host: '224.0.0.1', port: 5000 }], 1000], /not a unicast address/],
      [TcpChannel.Connect, [[{ host: '::1', port: 5000 }], 1000], /not a routable/],
      [TcpChannel.Send, ['not a handle!', new Uint8Array(1)], /invalid arguments/],
      [TcpChannel.Send, ['abcdefgh-1234', new Uint8Array(0)], /invalid arguments/],
      [TcpChannel.Send, ['abcdefgh-1234', new Uint8Array(MAX_TCP_RECORD_BYTES + 1)], /invalid arguments/],
      [TcpChannel.Send, ['abcdefgh-1234', 'text'], /invalid arguments/],
      [TcpChannel.Ack, ['abcdefgh-1234', -5], /invalid arguments/],
      [TcpChannel.Listen, [true], /invalid arguments/],
      [TcpChannel.Send, ['abcdefgh-1234', new Uint8Array(4)], /unknown TCP socket/],
      [TcpChannel.Start, ['abcdefgh-1234'], /unknown TCP socket/],
    ];
    for (const [channel, args, why] of bad)
      await expect(one.raw(channel, ...args), `${channel} ${JSON.stringify(args)}`).rejects.toThrow(why);
    expect(rejected.length).toBe(bad.filter(([, , w]) => w.source === 'invalid arguments').length);
    expect(hintProblem('192.168.1.20', 40000)).toBeNull();
    expect(hintProblem('fd00::5', 40000)).toBeNull();
    expect(hintProblem('169.254.1.1', 40000)).toMatch(/link-local/);
    expect(hintProblem('::ffff:127.0.0.1', 40000)).toMatch(/unicast/);
    expect(hintProblem('fe80::1', 40000)).toMatch(/routable/);
  });

  it('connecting has a budget per window: a sweep of addresses is cut off, a reload does not refill it, time does', async () => {
    let now = 0;
    const { one, two, sockets } = stack({
      // Nothing listens on these: every connect is refused at once, as a port sweep's would be.
      hintPolicy: () => null,
      connectBudget: { burst: 16, perSecond: 2 },
      now: () => now,
    });
    const eight = (from: number) => Array.from({ length: 8 }, (_, i) => ({ host: '127.0.0.1', port: from + i }));
    const refusedOrBudget = async (w: typeof one, hints: Array<{ host: string; port: number }>) =>
      w.raw(TcpChannel.Connect, hints, 1000).then(
        () => 'connected',
        (e: Error) => (/too many TCP connection attempts/.test(e.message) ? 'budget' : 'refused'),
      );
    expect(await refusedOrBudget(one, eight(1030))).toBe('refused');
    expect(await refusedOrBudget(one, eight(1040))).toBe('refused');
    expect(await refusedOrBudget(one, eight(1050))).toBe('budget');
    // The other window has its own budget.
    expect(await refusedOrBudget(two, eight(1050))).toBe('refused');
    // A reload (the window's things released) does not refill it.
    sockets.releaseOwner(1);
    expect(await refusedOrBudget(one, eight(1060))).toBe('budget');
    now += 4_000;
    expect(await refusedOrBudget(one, eight(1070))).toBe('refused');
  });

  it('a refused hint does not sink the others in the list; a list with none usable is refused', async () => {
    const { one, sockets } = stack();
    const peer = await peerListens();
    const accepted = nextConnection(peer);
    const { socket } = await one.bridge.connect([{ host: '169.254.7.7', port: 40000 }, ...peer.hints], 3000);
    const theirs = await accepted;
    cleanups.push(() => theirs.close());
    expect(sockets.count(1).sockets).toBe(1);
    await one.bridge.close(socket);
    await expect(
      one.bridge.connect(
        [
          { host: '169.254.7.7', port: 40000 },
          { host: '10.0.0.1', port: 22 },
        ],
        3000,
      ),
    ).rejects.toThrow(/refused TCP hint 169\.254\.7\.7:40000: a link-local address/);
  });

  it('a handle works only for the window that got it; a stray webContents is refused', async () => {
    const { one, two, ipcMain, sockets } = stack();
    const peer = await peerListens();
    const accepted = nextConnection(peer);
    const { socket } = await one.bridge.connect(peer.hints, 3000);
    const theirs = await accepted;
    cleanups.push(() => theirs.close());
    const { listener } = await one.bridge.listen();

    await expect(two.bridge.send(socket, new Uint8Array([1]))).rejects.toThrow(/unknown TCP socket/);
    await expect(two.bridge.start(socket)).rejects.toThrow(/unknown TCP socket/);
    await expect(two.bridge.closeListener(listener)).rejects.toThrow(/unknown TCP listener/);
    await two.bridge.close(socket); // silently nothing: no oracle, and the socket lives on
    expect(sockets.count(1)).toEqual({ sockets: 1, listeners: 1 });
    const stray = new FakeWebContents(7);
    await expect(ipcMain.invoke(stray.event(), TcpChannel.Listen)).rejects.toThrow(/not the app window/);
    await expect(ipcMain.invoke(one.wc.event(one.wc.subFrame), TcpChannel.Listen)).rejects.toThrow(/main frame/);

    const got = collect(theirs, 1);
    await one.bridge.send(socket, new Uint8Array([42]));
    expect(await got).toEqual([new Uint8Array([42])]);
    // Nothing of window 1's socket ever reached window 2.
    expect(two.events.log).toEqual([]);
  });

  it('holds received records until the renderer starts the socket: none lost, none early', async () => {
    const { one } = stack();
    const peer = await peerListens();
    const accepted = nextConnection(peer);
    const { socket } = await one.bridge.connect(peer.hints, 3000);
    const theirs = await accepted;
    cleanups.push(() => theirs.close());
    const sent = records(5);
    for (const r of sent) theirs.send(r);
    // A round trip through main and the peer: the records above reached main meanwhile.
    const echo = collect(theirs, 1);
    await one.bridge.send(socket, new Uint8Array([1]));
    await echo;
    expect(one.events.log).toEqual([]);
    const frames: Uint8Array[] = [];
    const all = new Promise<void>((resolve) =>
      one.bridge.onEvent((e) => {
        if (e.kind === 'frame' && frames.push(e.data) === sent.length) resolve();
      }),
    );
    await one.bridge.start(socket);
    await all;
    expect(digests(frames)).toEqual(digests(sent));
  });

  it('send backpressure: buffered until main drains, drain fires, and a renderer that ignores it is cut off', async () => {
    const { one } = stack({ maxQueuedBytes: 24 * 1024 * 1024 });
    // A contact that reads nothing until told.
    const held: Socket[] = [];
    const server: Server = createServer({ pauseOnConnect: true }, (s) => held.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      for (const s of held) s.destroy();
      server.close();
    });
    const port = (server.address() as { port: number }).port;
    const mine = await one.platform.connect([{ host: '127.0.0.1', port }], 3000);
    const record = new Uint8Array(256 * 1024);
    // 16 MiB: more than the kernel's buffers on both ends of a loopback connection take.
    for (let i = 0; i < 64; i++) mine.send(record);
    expect(mine.bufferedAmount).toBe(64 * record.length);
    // What the kernel took resolves; the rest stays counted while main's buffer is above its low-water mark.
    await expect.poll(() => held.length).toBe(1);
    const drained = new Promise<void>((r) => mine.onDrain(r));
    expect(mine.bufferedAmount).toBeGreaterThan(256 * 1024);
    held[0]!.resume();
    await drained;
    expect(mine.bufferedAmount).toBeLessThanOrEqual(256 * 1024);

    // Reading stops again and the renderer keeps sending regardless: main refuses past its bound and closes.
    held[0]!.pause();
    const why = closed(mine);
    for (let i = 0; i < 400 && !mine.closed; i++) {
      mine.send(record);
      if (i % 16 === 15) await new Promise((r) => setImmediate(r));
    }
    expect(await why).toMatch(/sent past backpressure/);
  });

  it('receive side: acked consumption keeps a fast stream going; a window that stops acking is cut off', async () => {
    const { one } = stack({ maxUnackedBytes: 3 * 1024 * 1024 });
    const peer = await peerListens();
    // Through the renderer's platform (acks every 1 MiB handed on): 24 MiB arrive whole.
    let accepted = nextConnection(peer);
    const mine = await one.platform.connect(peer.hints, 3000);
    let theirs = await accepted;
    cleanups.push(() => theirs.close());
    const big = records(6).filter((r) => r.length >= 65_536);
    let total = 0;
    const plan: Uint8Array[] = [];
    while (total < 24 * 1024 * 1024) {
      const r = big[plan.length % big.length]!;
      plan.push(r);
      total += r.length;
    }
    const got = collect(mine, plan.length);
    for (const r of plan) theirs.send(r);
    expect((await got).reduce((n, r) => n + r.length, 0)).toBe(total);

    // A renderer that takes records and never acks: main closes the socket past the bound.
    accepted = nextConnection(peer);
    const { socket } = await one.bridge.connect(peer.hints, 3000);
    theirs = await accepted;
    const closedEvent = new Promise<BridgeTcpEvent>((resolve) =>
      one.bridge.onEvent((e) => {
        if (e.kind === 'close' && e.socket === socket) resolve(e);
      }),
    );
    await one.bridge.start(socket);
    const peerSaw = closed(theirs);
    for (let i = 0; i < 16; i++) theirs.send(new Uint8Array(256 * 1024)); // 4 MiB
    expect(await closedEvent).toMatchObject({ reason: expect.stringMatching(/fell .* behind/) });
    await peerSaw;
  });

  it('cleanup: a window that goes takes its listeners and sockets with it; a listener closes by itself', async () => {
    const closes: string[] = [];
    const real = nodeTcp({ addresses: () => LOOPBACK });
    // Records when main closes a listener (the event the deadline test waits for).
    const platform: TcpPlatform = {
      connect: (h, t) => real.connect(h, t),
      async listen() {
        const l = await real.listen();
        return {
          hints: l.hints,
          onConnection: (h) => l.onConnection(h),
          close: () => {
            closes.push(`${l.hints[0]!.port}`);
            l.close();
          },
        };
      },
    };
    const { one, two, sockets } = stack({ platform, listenMaxMs: 300 });
    const peer = await peerListens();
    const accepted = nextConnection(peer);
    const mine = await one.platform.connect(peer.hints, 3000);
    const theirs = await accepted;
    const listener = await one.platform.listen();
    const otherListener = await two.platform.listen();
    const peerSaw = closed(theirs);
    expect(sockets.count(1)).toEqual({ sockets: 1, listeners: 1 });

    sockets.releaseOwner(1); // the window closed, crashed or reloaded
    expect(sockets.count(1)).toEqual({ sockets: 0, listeners: 0 });
    await peerSaw;
    await expect(peerTcp.connect(listener.hints, 3000)).rejects.toThrow(/refused/);
    void mine;
    // Window 2's listener is untouched until its deadline, then main closes it without being asked.
    expect(sockets.count(2).listeners).toBe(1);
    await expect.poll(() => closes.length, { timeout: 5000 }).toBe(2);
    expect(sockets.count(2).listeners).toBe(0);
    await expect(peerTcp.connect(otherListener.hints, 3000)).rejects.toThrow(/refused/);

    // Limits per window.
    for (let i = 0; i < MAX_TCP_LISTENERS_PER_OWNER; i++) await two.bridge.listen();
    await expect(two.bridge.listen()).rejects.toThrow(/too many TCP listeners/);

    // A window that goes while main is still starting to listen or connecting for it: nothing is kept.
    const listening = one.bridge.listen();
    const connecting = one.bridge.connect(peer.hints, 3000);
    await Promise.resolve();
    sockets.releaseOwner(1);
    await expect(listening).rejects.toThrow(/window went away/);
    await expect(connecting).rejects.toThrow(/window went away/);
    expect(sockets.count(1)).toEqual({ sockets: 0, listeners: 0 });
  });

  it('listens on non-internal interface addresses only, as the CLI does', () => {
    const ifaces = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      eth0: [
        { address: '10.99.0.1', family: 'IPv4', internal: false },
        { address: 'fe80::1', family: 'IPv6', internal: false },
        { address: 'fd00::7', family: 'IPv6', internal: false },
      ],
      // No DHCP answer: the OS picked a link-local address, which main would refuse as a hint.
      eth1: [{ address: '169.254.33.9', family: 'IPv4', internal: false }],
    } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;
    expect(interfaceAddresses(ifaces)).toEqual(['10.99.0.1', 'fd00::7']);
  });
});
