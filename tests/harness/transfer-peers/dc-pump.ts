// One end of the bare data-channel baseline: simple-peer + @roamhq/wrtc, the stack Parley's peers use,
// with the same buffering and message size as the session's direct transport (256 KiB messages, the
// largest libwebrtc negotiates; write while bufferedAmount ≤ 1 MiB, resume at 256 KiB) and nothing else:
// no stream, no hashing, no files. argv: <initiator|responder>. BARE_MESSAGE=<bytes> overrides the size.
// IPC in: {start}, {signal}, {pump: bytes}, {expect: bytes}. IPC out: {signal}, {connected}, {pumped, t0}, {received, t}.
import wrtc from '@roamhq/wrtc';
import SimplePeer from 'simple-peer';

const initiator = process.argv[2] === 'initiator';
const HIGH = 1024 * 1024;
const LOW = 256 * 1024;
const MESSAGE = Number(process.env.BARE_MESSAGE ?? 256 * 1024) - 1;
const send = (m: unknown) => process.send?.(m);
const now = () => performance.timeOrigin + performance.now();

type Channel = {
  bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  send(d: Uint8Array): void;
  addEventListener(e: string, f: () => void): void;
};
type Peer = { on(e: string, f: (x: never) => void): void; signal(d: unknown): void; _channel: Channel };
let peer: Peer | null = null;
let expect = 0;
let got = 0;

// Created on {start}, once the test listens for signals.
function start(): void {
  const p = new SimplePeer({ initiator, wrtc, trickle: true, config: { iceServers: [] } }) as unknown as Peer;
  peer = p;
  p.on('signal', (data: unknown) => send({ type: 'signal', data }));
  p.on('connect', () => send({ type: 'connected' }));
  p.on('error', (e: Error) => send({ type: 'error', message: e.message }));
  p.on('data', (d: Uint8Array) => {
    got += d.length;
    if (expect && got >= expect) {
      send({ type: 'received', bytes: got, t: now() });
      expect = 0;
    }
  });
}

async function pump(bytes: number): Promise<void> {
  const channel = peer!._channel;
  channel.bufferedAmountLowThreshold = LOW;
  let wake: (() => void) | null = null;
  const low = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  channel.addEventListener('bufferedamountlow', low);
  const message = new Uint8Array(MESSAGE).fill(7);
  const t0 = now();
  for (let sent = 0; sent < bytes;) {
    const n = Math.min(MESSAGE, bytes - sent);
    channel.send(n === MESSAGE ? message : message.subarray(0, n));
    sent += n;
    if (channel.bufferedAmount > HIGH) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        // wrtc may not fire 'bufferedamountlow': the session's transport falls back to a short timer too.
        const check = () => (channel.bufferedAmount <= LOW ? low() : wake === resolve && setTimeout(check, 2));
        setTimeout(check, 2);
      });
    }
  }
  send({ type: 'pumped', t0 });
}

process.on('message', (raw) => {
  const m = raw as { start?: boolean; signal?: unknown; pump?: number; expect?: number };
  if (m.start) start();
  if (m.signal) peer?.signal(m.signal);
  if (m.expect) {
    expect = m.expect;
    got = 0;
    send({ type: 'expecting' });
  }
  if (m.pump) void pump(m.pump);
});
send({ type: 'ready' });
