// The Parley relay inside a test-bed host. With `observe` or `tamper`, a curious or hostile relay: the real
// relay listens on loopback and a WebSocket proxy on the host address forwards everything, reporting every call
// signal it forwards (what the relay can read). `tamper` also alters the sealed body of every large call
// signal (the offer and answer, going by size: the relay cannot read which is which) and, should a call SDP
// ever cross in clear, rewrites its DTLS fingerprint (what a relay would do to sit in the middle of DTLS).
// argv[2]: JSON RelayHostArgs. Reports over IPC: { type: 'ready', url }, { type: 'tampered', count },
// { type: 'forwarded', text }.
import { WebSocket, WebSocketServer } from 'ws';
import { bridgeWebSockets } from '../../../harness/ws-bridge.js';
import { silentLogger, startRelay } from '../../../../signaling/server/index.js';
import { RelayHostArgs, type RelayHostEvent } from './protocol.js';

const send = (ev: RelayHostEvent): void => void process.send?.(ev);
const args = RelayHostArgs.parse(JSON.parse(process.argv[2] ?? '{}'));
const publicHost = `${args.address}:${args.port}`;

/** A different, well-formed sha-256 fingerprint than `fp` (every byte flipped). */
function forged(fp: string): string {
  return fp
    .split(':')
    .map((b) => (255 - parseInt(b, 16)).toString(16).padStart(2, '0').toUpperCase())
    .join(':');
}

let tampered = 0;

/** Sealed bodies at least this long carry an SDP (candidates and the other call signals are far shorter). */
const SDP_SIZED = 1_000;

/** One character of a base64url text changed (still well-formed). */
function flipped(text: string): string {
  const i = Math.floor(text.length / 2);
  return text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1);
}

/**
 * Reports every call signal in a relay→client `signal` message and, with `tamper`, alters it; other messages
 * pass untouched.
 */
function rewrite(text: string): string {
  let msg: {
    type?: unknown;
    data?: { kind?: unknown; op?: unknown; box?: unknown; body?: unknown; data?: { sdp?: unknown } };
  };
  try {
    msg = JSON.parse(text) as typeof msg;
  } catch {
    return text;
  }
  if (msg.type !== 'signal' || (msg.data?.kind !== 'call' && msg.data?.kind !== 'call-signal')) return text;
  send({ type: 'forwarded', text });
  if (!args.tamper) return text;
  const data = msg.data;
  const sdp = data.data?.sdp;
  if (data.kind === 'call' && data.op === 'rtc' && typeof sdp === 'string') {
    data.data!.sdp = sdp.replace(
      /^(a=fingerprint:sha-256 )([0-9A-Fa-f:]+)/gm,
      (_m, prefix: string, fp: string) => prefix + forged(fp),
    );
  } else if (data.kind === 'call-signal' && data.box === true && typeof data.body === 'string') {
    if (data.body.length < SDP_SIZED) return text;
    data.body = flipped(data.body);
  } else {
    return text;
  }
  tampered++;
  send({ type: 'tampered', count: tampered });
  return JSON.stringify(msg);
}

async function main(): Promise<void> {
  if (!args.tamper && !args.observe) {
    const relay = await startRelay({
      host: args.address,
      port: args.port,
      logger: silentLogger,
      ...(args.staticDir ? { staticDir: args.staticDir, insecureHttp: true } : {}),
      ...(args.turn ? { turn: args.turn } : {}),
    });
    process.on('SIGTERM', () => void relay.close().then(() => process.exit(0)));
    send({ type: 'ready', url: relay.url, httpUrl: relay.httpUrl });
    return;
  }
  const relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, acceptHosts: [publicHost] });
  const proxy = new WebSocketServer({ host: args.address, port: args.port, path: '/ws' });
  proxy.on('connection', (client) => {
    const upstream = new WebSocket(relay.url, { perMessageDeflate: false });
    bridgeWebSockets(client, upstream, {
      down: (data, binary) => {
        if (binary) client.send(data, { binary: true });
        else client.send(rewrite(data.toString('utf8')));
      },
    });
  });
  await new Promise<void>((resolve) => proxy.on('listening', () => resolve()));
  process.on('SIGTERM', () => {
    proxy.close();
    void relay.close().then(() => process.exit(0));
  });
  send({ type: 'ready', url: `ws://${publicHost}/ws`, httpUrl: `http://${publicHost}/` });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: String(error) });
  process.exit(1);
});
