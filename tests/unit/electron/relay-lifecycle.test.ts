import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import {
  createQuitGuard,
  EmbeddedRelay,
  isPrivateIPv4,
  pickLanAddress,
  type RelayHandleLike,
  type RelayStatus,
  type StartRelay,
} from '../../../electron/main/relay-lifecycle.js';
import { silentLogger, startRelay } from '../../../signaling/server/index.js';

const root = resolve(import.meta.dirname, '..', '..', '..');
const running: EmbeddedRelay[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

function realRelay(statuses: RelayStatus[] = []): EmbeddedRelay {
  const relay = new EmbeddedRelay({
    startRelay,
    lanAddress: () => null,
    logger: silentLogger,
    onStatus: (s) => statuses.push(s),
  });
  running.push(relay);
  return relay;
}

function wsOpens(url: string): Promise<boolean> {
  return new Promise((res) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      res(true);
    });
    ws.once('error', () => res(false));
  });
}

async function busyPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('embedded relay with the real signaling/server startRelay (loopback only)', () => {
  it('starts on 127.0.0.1, accepts WebSocket clients, and stops', async () => {
    const statuses: RelayStatus[] = [];
    const relay = realRelay(statuses);
    const status = await relay.start({ lanRelay: false, relayPort: 0 });
    expect(status).toMatchObject({ state: 'running', host: '127.0.0.1', lan: false, fellBack: false });
    expect(relay.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    expect(await wsOpens(relay.url!)).toBe(true);
    const url = relay.url!;
    await relay.stop();
    expect(relay.url).toBeNull();
    expect(statuses.map((s) => s.state)).toEqual(['running', 'stopped']);
    expect(await wsOpens(url)).toBe(false);
  });

  it('falls back to an ephemeral port when the preferred one is taken', async () => {
    const taken = await busyPort();
    const relay = realRelay();
    const status = await relay.start({ lanRelay: false, relayPort: taken });
    expect(status.state).toBe('running');
    if (status.state !== 'running') return;
    expect(status.fellBack).toBe(true);
    expect(status.port).not.toBe(taken);
    expect(await wsOpens(status.url)).toBe(true);
  });

  it('restarting closes the previous relay first', async () => {
    const relay = realRelay();
    const first = await relay.start({ lanRelay: false, relayPort: 0 });
    const second = await relay.start({ lanRelay: false, relayPort: 0 });
    if (first.state !== 'running' || second.state !== 'running') throw new Error('not running');
    expect(await wsOpens(first.url)).toBe(first.port === second.port);
    expect(await wsOpens(second.url)).toBe(true);
  });

  it('the composition root loads exactly this startRelay', () => {
    // Parse the composition (electron/main/compose.ts) and resolve its dynamic import of the relay the way NodeNext does.
    const file = join(root, 'electron', 'main', 'compose.ts');
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const specifiers: string[] = [];
    const visit = (node: ts.Node): void => {
      if (
        ts.isCallExpression(node) &&
        node.expression.kind === ts.SyntaxKind.ImportKeyword &&
        ts.isStringLiteral(node.arguments[0]!)
      ) {
        specifiers.push(node.arguments[0].text);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    const relayImports = specifiers.filter((s) => s.includes('signaling/server'));
    expect(relayImports).toEqual(['../../signaling/server/index.js']);
    expect(resolve(dirname(file), relayImports[0]!).replace(/\.js$/, '.ts')).toBe(
      join(root, 'signaling', 'server', 'index.ts'),
    );
    expect(typeof startRelay).toBe('function');
  });
});

describe('embedded relay with injected startRelay (cases a test must not create for real)', () => {
  function fake(behaviour: (options: Parameters<StartRelay>[0]) => RelayHandleLike | Error) {
    const calls: Parameters<StartRelay>[0][] = [];
    const closed: number[] = [];
    const start: StartRelay = async (options) => {
      calls.push(options);
      const r = behaviour(options);
      if (r instanceof Error) throw r;
      return { ...r, close: async () => void closed.push(r.port) };
    };
    return { start, calls, closed };
  }
  const handle = (host: string, port: number): RelayHandleLike => ({
    url: `ws://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/ws`,
    port,
    close: async () => {},
  });

  it('LAN mode listens on every interface and advertises the LAN address', async () => {
    const f = fake((o) => handle(o.host!, o.port || 50000));
    const relay = new EmbeddedRelay({ startRelay: f.start, lanAddress: () => '192.168.1.20' });
    const status = await relay.start({ lanRelay: true, relayPort: 47913 });
    expect(f.calls[0]).toMatchObject({ host: '0.0.0.0', port: 47913 });
    expect(status).toMatchObject({
      state: 'running',
      url: 'ws://192.168.1.20:47913/ws',
      localUrl: 'ws://127.0.0.1:47913/ws',
      lan: true,
    });
  });

  it('LAN mode without a LAN address still runs, advertising loopback', async () => {
    const f = fake((o) => handle(o.host!, 47913));
    const relay = new EmbeddedRelay({ startRelay: f.start, lanAddress: () => null });
    expect(await relay.start({ lanRelay: true, relayPort: 47913 })).toMatchObject({
      state: 'running',
      url: 'ws://127.0.0.1:47913/ws',
    });
  });

  it('a port in use falls back to port 0; other errors fail without retry and leave no URL', async () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    const f = fake((o) => (o.port === 47913 ? inUse : handle(o.host!, 61000)));
    const relay = new EmbeddedRelay({ startRelay: f.start, lanAddress: () => null });
    expect(await relay.start({ lanRelay: false, relayPort: 47913 })).toMatchObject({
      state: 'running',
      port: 61000,
      fellBack: true,
    });
    expect(f.calls.map((c) => c.port)).toEqual([47913, 0]);

    const g = fake(() => new Error('relay exploded'));
    const broken = new EmbeddedRelay({ startRelay: g.start, lanAddress: () => null });
    expect(await broken.start({ lanRelay: false, relayPort: 47913 })).toEqual({
      state: 'failed',
      error: 'relay exploded',
    });
    expect(g.calls).toHaveLength(1);
    expect(broken.url).toBeNull();

    const h = fake(() => Object.assign(new Error('busy'), { code: 'EADDRINUSE' }));
    const alwaysBusy = new EmbeddedRelay({ startRelay: h.start, lanAddress: () => null });
    expect(await alwaysBusy.start({ lanRelay: false, relayPort: 47913 })).toEqual({ state: 'failed', error: 'busy' });
    expect(h.calls.map((c) => c.port)).toEqual([47913, 0]);
  });

  it('serializes start and stop so a toggle storm ends in a consistent state', async () => {
    const f = fake((o) => handle(o.host!, 40000 + f.calls.length));
    const relay = new EmbeddedRelay({ startRelay: f.start, lanAddress: () => '10.0.0.5' });
    await Promise.all([
      relay.start({ lanRelay: true, relayPort: 0 }),
      relay.start({ lanRelay: false, relayPort: 0 }),
      relay.stop(),
      relay.start({ lanRelay: true, relayPort: 0 }),
    ]);
    // Every relay but the last was closed, and the status describes the last one.
    expect(f.closed).toEqual(f.calls.slice(0, -1).map((_c, i) => 40001 + i));
    expect(relay.status).toMatchObject({
      state: 'running',
      lan: true,
      url: `ws://10.0.0.5:${40000 + f.calls.length}/ws`,
    });
  });
});

describe('pickLanAddress', () => {
  const iface = (address: string, internal = false, family: 'IPv4' | 'IPv6' = 'IPv4'): NetworkInterfaceInfo =>
    family === 'IPv4'
      ? { address, internal, family, netmask: '', mac: '', cidr: null }
      : { address, internal, family, netmask: '', mac: '', cidr: null, scopeid: 0 };

  it('prefers a private IPv4, skips loopback, link-local and IPv6', () => {
    expect(
      pickLanAddress({
        lo: [iface('127.0.0.1', true)],
        eth0: [iface('fe80::1', false, 'IPv6'), iface('169.254.3.4'), iface('203.0.113.7')],
        wlan0: [iface('192.168.0.12')],
      }),
    ).toBe('192.168.0.12');
    expect(pickLanAddress({ eth0: [iface('203.0.113.7')] })).toBe('203.0.113.7');
    expect(pickLanAddress({ lo: [iface('127.0.0.1', true)] })).toBeNull();
    expect(pickLanAddress({})).toBeNull();
  });

  it('knows the private ranges', () => {
    expect(['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1'].every(isPrivateIPv4)).toBe(true);
    expect(['172.15.0.1', '172.32.0.1', '192.169.0.1', '11.0.0.1', 'x'].some(isPrivateIPv4)).toBe(false);
  });
});

describe('quit guard', () => {
  it('holds the first quit until shutdown finished, then quits once', async () => {
    let finish!: () => void;
    const shutdownDone = new Promise<void>((r) => (finish = r));
    let quits = 0;
    let resolveQuit!: () => void;
    const quitCalled = new Promise<void>((r) => (resolveQuit = r));
    const onBeforeQuit = createQuitGuard({
      shutdown: () => shutdownDone,
      quit: () => (quits++, resolveQuit()),
      timeoutMs: 60_000,
    });
    const events = [0, 0, 0].map(() => ({
      prevented: false,
      preventDefault() {
        this.prevented = true;
      },
    }));
    onBeforeQuit(events[0]!);
    onBeforeQuit(events[1]!);
    expect(events[0]!.prevented && events[1]!.prevented).toBe(true);
    expect(quits).toBe(0);
    finish();
    await quitCalled;
    expect(quits).toBe(1);
    onBeforeQuit(events[2]!);
    expect(events[2]!.prevented).toBe(false);
  });

  it('quits anyway when shutdown fails or hangs', async () => {
    const errors: unknown[] = [];
    let quit!: () => void;
    const quitCalled = new Promise<void>((r) => (quit = r));
    const failing = createQuitGuard({
      shutdown: async () => Promise.reject(new Error('close failed')),
      quit,
      timeoutMs: 60_000,
      onError: (e) => errors.push(e),
    });
    failing({ preventDefault() {} });
    await quitCalled;
    expect(String(errors[0])).toMatch(/close failed/);

    vi.useFakeTimers();
    try {
      let hungQuits = 0;
      const hanging = createQuitGuard({
        shutdown: () => new Promise(() => {}),
        quit: () => hungQuits++,
        timeoutMs: 5_000,
        onError: (e) => errors.push(e),
      });
      hanging({ preventDefault() {} });
      await vi.advanceTimersByTimeAsync(4_999);
      expect(hungQuits).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(hungQuits).toBe(1);
      expect(String(errors[1])).toMatch(/within 5000 ms/);
    } finally {
      vi.useRealTimers();
    }
  });
});
