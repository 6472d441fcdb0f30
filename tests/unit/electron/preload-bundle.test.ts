// The preload bundle as a sandboxed renderer would load it: a CommonJS script whose `require` knows only
// 'electron'. Runs the real bundle in a vm context with a fake contextBridge and ipcRenderer.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundlePreload } from '../../../build/bundle-preload.mjs';

const outDir = mkdtempSync(join(tmpdir(), 'parley-preload-bundle-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

let code = '';
const exposed = new Map<string, unknown>();
const required: string[] = [];
const invoked: unknown[][] = [];
const listeners = new Map<string, ((event: unknown, ...args: unknown[]) => void)[]>();

beforeAll(async () => {
  const file = await bundlePreload(outDir);
  code = readFileSync(file, 'utf8');
  const ipcRenderer = {
    invoke: async (...args: unknown[]) => {
      invoked.push(args);
      return args[0] === 'parley:relay-url'
        ? 'ws://127.0.0.1:1/ws'
        : args[0] === 'parley:take-deep-links'
          ? []
          : undefined;
    },
    on: (channel: string, l: (event: unknown, ...args: unknown[]) => void) => {
      listeners.set(channel, [...(listeners.get(channel) ?? []), l]);
    },
    removeListener: (channel: string, l: (event: unknown, ...args: unknown[]) => void) => {
      listeners.set(
        channel,
        (listeners.get(channel) ?? []).filter((x) => x !== l),
      );
    },
  };
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    ipcRenderer,
  };
  const sandboxRequire = (id: string): unknown => {
    required.push(id);
    if (id === 'electron') return electron;
    throw new Error(`module not found in the preload sandbox: ${id}`);
  };
  const module = { exports: {} };
  runInNewContext(
    code,
    { require: sandboxRequire, module, exports: module.exports, queueMicrotask, console },
    { filename: file },
  );
}, 60_000);

describe('preload bundle', () => {
  it('is one CommonJS file that requires nothing but electron', () => {
    expect(required).toEqual(['electron']);
    expect(code).not.toMatch(/^\s*import\s/m);
    expect(code).not.toMatch(/^\s*export\s/m);
    const requires = [...code.matchAll(/require\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]);
    expect(new Set(requires)).toEqual(new Set(['electron']));
  });

  it('exposes only window.parley, made of functions and plain values', () => {
    expect([...exposed.keys()]).toEqual(['parley']);
    const api = exposed.get('parley') as Record<string, unknown>;
    expect(api.platform).toBe('electron');
    // The nested objects are the received-files sink, the TCP sockets and the bulk lanes, themselves made of
    // functions only.
    const { downloads, tcp, bulk, ...rest } = api;
    for (const [k, v] of Object.entries(rest)) expect(['function', 'string'], k).toContain(typeof v);
    expect(typeof downloads).toBe('object');
    const sinkMethods = Object.entries(downloads as Record<string, unknown>);
    expect(sinkMethods.map(([k]) => k).sort()).toEqual([
      'close',
      'commit',
      'discard',
      'flush',
      'open',
      'read',
      'reveal',
      'truncate',
      'write',
    ]);
    for (const [k, v] of sinkMethods) expect(typeof v, k).toBe('function');
    const tcpMethods = Object.entries(tcp as Record<string, unknown>);
    expect(tcpMethods.map(([k]) => k).sort()).toEqual([
      'ack',
      'close',
      'closeListener',
      'connect',
      'listen',
      'onEvent',
      'send',
      'start',
    ]);
    for (const [k, v] of tcpMethods) expect(typeof v, k).toBe('function');
    const bulkMethods = Object.entries(bulk as Record<string, unknown>);
    expect(bulkMethods.map(([k]) => k).sort()).toEqual([
      'cancel',
      'onEvent',
      'pick',
      'readSource',
      'receive',
      'send',
      'sourceInfo',
    ]);
    for (const [k, v] of bulkMethods) expect(typeof v, k).toBe('function');
    // ipcRenderer must never cross the bridge, not even nested.
    expect(Object.values(rest).some((v) => typeof v === 'object')).toBe(false);
  });

  it('talks to main through ipcRenderer.invoke and strips IPC event objects', async () => {
    const api = exposed.get('parley') as {
      embeddedRelayUrl(): Promise<string | null>;
      onDeepLink(l: (u: string) => void): () => void;
    };
    await expect(api.embeddedRelayUrl()).resolves.toBe('ws://127.0.0.1:1/ws');
    expect(invoked[0]).toEqual(['parley:relay-url']);
    const got: unknown[][] = [];
    const off = api.onDeepLink((...args: unknown[]) => got.push(args));
    const [listener] = listeners.get('parley:deep-link') ?? [];
    expect(listener).toBeTypeOf('function');
    listener!({ sender: 'the IPC event, never for the renderer' }, 'parley:invite#1');
    expect(got).toEqual([['parley:invite#1']]);
    off();
    expect(listeners.get('parley:deep-link')).toEqual([]);
  });

  it('sends received-file calls to main as they are', async () => {
    const api = exposed.get('parley') as {
      downloads: { write(h: string, c: Uint8Array): Promise<void>; reveal(p: string): Promise<void> };
    };
    invoked.length = 0;
    await api.downloads.write('handle-1234', new Uint8Array([1, 2]));
    await api.downloads.reveal('a/b.txt');
    expect(invoked).toEqual([
      ['parley:download-write', 'handle-1234', new Uint8Array([1, 2])],
      ['parley:download-reveal', 'a/b.txt'],
    ]);
  });
});
