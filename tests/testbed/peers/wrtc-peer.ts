// A simple-peer 9.11.1 peer on @roamhq/wrtc, run inside a test-bed host with host.spawnNode() and driven over
// Node IPC by the test (see protocol.ts). One peer per process: to connect again, spawn a new one.
import { createRequire } from 'node:module';
import { createHash, randomBytes } from 'node:crypto';
import { PeerCommand, TAG_DATA, TAG_TEXT, selectedPair, type ParsedPeerCommand, type PeerEvent } from './protocol.js';

interface PcLike {
  readonly iceConnectionState: string;
  readonly iceGatheringState: string;
  readonly connectionState: string;
  getStats(): Promise<{ forEach(cb: (r: Record<string, unknown>) => void): void }>;
  addEventListener(type: string, listener: () => void): void;
}
interface SimplePeerInstance {
  readonly destroyed: boolean;
  readonly _pc: PcLike | null;
  signal(data: unknown): void;
  write(chunk: Uint8Array): boolean;
  destroy(err?: Error): void;
  on(event: string, listener: (...args: never[]) => void): this;
  once(event: string, listener: (...args: never[]) => void): this;
  off(event: string, listener: (...args: never[]) => void): this;
}
type SimplePeerCtor = new (opts: Record<string, unknown>) => SimplePeerInstance;

// No type declarations ship with simple-peer; a local structural type keeps this script self-contained.
const require = createRequire(import.meta.url);
const SimplePeer = require('simple-peer') as SimplePeerCtor;
const wrtc = require('@roamhq/wrtc') as unknown;

const send = process.send?.bind(process);
if (!send) {
  console.error('wrtc-peer must be started with an IPC channel (host.spawnNode)');
  process.exit(2);
}
function emit(ev: PeerEvent): void {
  send!(ev);
}

let peer: SimplePeerInstance | null = null;
let createdAt = 0;
// Receiving side of a pump: running hash of every data byte since the last `received` report.
let rxHash = createHash('sha256');
let rxBytes = 0;
let rxStart = 0;
let rxExpect: number | null = null;

function checkReceived(): void {
  if (rxExpect === null || rxBytes < rxExpect) return;
  emit({
    type: 'received',
    bytes: rxBytes,
    sha256: rxHash.digest('hex'),
    ms: rxStart ? performance.now() - rxStart : 0,
  });
  rxHash = createHash('sha256');
  rxBytes = 0;
  rxStart = 0;
  rxExpect = null;
}

function onData(buf: Uint8Array): void {
  if (buf[0] === TAG_TEXT) {
    emit({ type: 'text', text: Buffer.from(buf.subarray(1)).toString('utf8') });
  } else if (buf[0] === TAG_DATA) {
    if (!rxStart) rxStart = performance.now();
    rxHash.update(buf.subarray(1));
    rxBytes += buf.length - 1;
    checkReceived();
  } else {
    emit({ type: 'error', message: `unknown frame tag ${buf[0]}`, code: 'ERR_TESTBED_FRAME' });
  }
}

async function reportPair(): Promise<void> {
  const pc = peer?._pc;
  if (!pc) return emit({ type: 'pair', pair: null });
  const reports: Array<Record<string, unknown>> = [];
  (await pc.getStats()).forEach((r) => reports.push(r));
  emit({ type: 'pair', pair: selectedPair(reports) });
}

/**
 * Reports ICE and connection states from the RTCPeerConnection itself, read one microtask after the event:
 * @roamhq/wrtc updates the state properties only after dispatching the change event, so a synchronous read
 * (what simple-peer's 'iceStateChange' does) often returns the previous state, e.g. "connected" for the
 * event that announces "disconnected".
 */
function watchStates(p: SimplePeerInstance): void {
  const pc = p._pc;
  if (!pc) return;
  let lastIce = '';
  let lastConn = '';
  const report = (): void =>
    queueMicrotask(() => {
      if (pc.iceConnectionState !== lastIce) {
        lastIce = pc.iceConnectionState;
        emit({ type: 'ice', state: lastIce, gathering: pc.iceGatheringState });
      }
      if (pc.connectionState !== lastConn) {
        lastConn = pc.connectionState;
        emit({ type: 'connection', state: lastConn });
      }
    });
  pc.addEventListener('iceconnectionstatechange', report);
  pc.addEventListener('connectionstatechange', report);
}

function create(cmd: Extract<ParsedPeerCommand, { type: 'create' }>): void {
  if (peer) throw new Error('this process already has a peer: spawn a new one');
  createdAt = performance.now();
  const p = new SimplePeer({ initiator: cmd.initiator, trickle: cmd.trickle, config: cmd.config, wrtc });
  peer = p;
  p.on('signal', (data: Record<string, unknown>) => emit({ type: 'signal', data }));
  watchStates(p);
  p.on('connect', () => {
    emit({ type: 'connect', ms: performance.now() - createdAt });
    reportPair().catch((e: unknown) =>
      emit({ type: 'error', message: `getStats: ${String(e)}`, code: 'ERR_TESTBED_STATS' }),
    );
  });
  p.on('data', onData);
  p.on('close', () => emit({ type: 'close' }));
  p.on('error', (err: Error & { code?: string }) =>
    emit({ type: 'error', message: err.message, code: err.code ?? null }),
  );
}

function waitDrain(p: SimplePeerInstance): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      p.off('drain', onDrain);
      p.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('peer closed during pump'));
    p.on('drain', onDrain);
    p.on('close', onClose);
  });
}

async function pump(bytes: number, chunkSize: number): Promise<void> {
  const p = peer;
  if (!p) throw new Error('pump before create');
  const hash = createHash('sha256');
  const start = performance.now();
  let sent = 0;
  while (sent < bytes) {
    const n = Math.min(chunkSize, bytes - sent);
    const frame = randomBytes(n + 1);
    frame[0] = TAG_DATA;
    hash.update(frame.subarray(1));
    sent += n;
    // Stream backpressure: simple-peer holds the write callback until the channel's buffer drains below 64 KiB.
    if (!p.write(frame)) await waitDrain(p);
  }
  emit({ type: 'pumped', bytes: sent, sha256: hash.digest('hex'), ms: performance.now() - start });
}

async function handle(cmd: ParsedPeerCommand): Promise<void> {
  switch (cmd.type) {
    case 'create':
      return create(cmd);
    case 'signal':
      if (!peer) throw new Error('signal before create');
      return peer.signal(cmd.data);
    case 'send': {
      if (!peer) throw new Error('send before create');
      const text = Buffer.from(cmd.text, 'utf8');
      const frame = Buffer.alloc(text.length + 1);
      frame[0] = TAG_TEXT;
      text.copy(frame, 1);
      peer.write(frame);
      return;
    }
    case 'pump':
      return pump(cmd.bytes, cmd.chunkSize);
    case 'expect':
      rxExpect = cmd.bytes;
      return checkReceived();
    case 'stats':
      return reportPair();
    case 'destroy':
      return peer?.destroy();
  }
}

process.on('message', (raw: unknown) => {
  const parsed = PeerCommand.safeParse(raw);
  if (!parsed.success) {
    emit({ type: 'error', message: `bad command: ${parsed.error.message}`, code: 'ERR_TESTBED_COMMAND' });
    return;
  }
  handle(parsed.data).catch((err: unknown) =>
    emit({ type: 'error', message: err instanceof Error ? err.message : String(err), code: 'ERR_TESTBED_COMMAND' }),
  );
});

emit({ type: 'ready', runtime: 'node' });
