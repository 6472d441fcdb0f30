// The relay for integration tests, run inside its own test-bed host. argv: <listen address> <port> <mode>
//   honest       the real relay on address:port
//   tamper       a ws proxy on address:port in front of the real relay, rewriting the DTLS fingerprint
//                in every SDP signal it forwards to clients (what a relay attacking DTLS would do)
//   impersonate  the proxy swaps two identity ids on one client's connection (set over IPC with
//                {cmd:'impersonate', target, victim, impostor}): the target talks to the impostor
//                while believing it talks to the victim
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { bridgeWebSockets } from '../ws-bridge.js';
import * as relayModule from '../../../signaling/server/index.js';

// RELAY_MODULE=<file URL>: another build's relay (e.g. a copy of main's dist/signaling/server/index.js), for
// before/after benchmarks of relay changes.
const { silentLogger, startRelay } = (
  process.env.RELAY_MODULE ? await import(process.env.RELAY_MODULE) : relayModule
) as typeof relayModule;

const [address = '0.0.0.0', portText = '0', mode = 'honest'] = process.argv.slice(2);
const port = Number(portText);

function reverseFingerprints(sdp: string): string {
  return sdp.replace(
    /(a=fingerprint:sha-256 )([0-9A-F:]+)/gi,
    (_, p: string, fp: string) => p + fp.split(':').reverse().join(':'),
  );
}

if (mode === 'honest') {
  // RELAY_CPU_PROF=<dir>: a V8 CPU profile of the relay, written when it stops (node refuses --cpu-prof in
  // NODE_OPTIONS, so the profiler is started here).
  const profDir = process.env.RELAY_CPU_PROF;
  const profiler = profDir ? await startProfiler() : null;
  const relay = await startRelay({ host: address, port, logger: silentLogger });
  process.send?.({ type: 'listening', port: relay.port, url: relay.url });
  process.on('SIGTERM', () => {
    void relay
      .close()
      .then(() => profiler?.(join(profDir!, `relay-${process.pid}.cpuprofile`)))
      .then(() => process.exit(0));
  });
} else {
  const inner = await startRelay({
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    acceptHosts: [`${address}:${port}`],
  });
  let swap: { target: string; victim: string; impostor: string } | null = null;
  process.on('message', (m) => {
    const msg = m as { cmd?: string; target: string; victim: string; impostor: string };
    if (msg.cmd === 'impersonate') {
      swap = { target: msg.target, victim: msg.victim, impostor: msg.impostor };
      // Acknowledge, so the test sends nothing before the swap is in force.
      process.send?.({ type: 'impersonating', port, url: '' });
    }
  });
  const wss = new WebSocketServer({ host: address, port, path: '/ws', perMessageDeflate: false });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (client) => {
    const upstream = new WebSocket(inner.url, { perMessageDeflate: false });
    let clientId: string | null = null;
    const toText = (d: RawData): string =>
      (Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d as ArrayBuffer)).toString('utf8');
    const up = (data: RawData, binary: boolean): RawData | string =>
      !binary && swap && clientId === swap.target ? toText(data).split(swap.victim).join(swap.impostor) : data;
    const down = (data: Buffer, binary: boolean): void => {
      if (binary) {
        client.send(data, { binary: true });
        return;
      }
      let text = data.toString('utf8');
      const parsed = JSON.parse(text) as {
        type: string;
        id?: string;
        data?: { signal?: { sdp?: string }; body?: string; box?: boolean };
      };
      if (parsed.type === 'ready') clientId = parsed.id ?? null;
      if (
        mode === 'tamper' &&
        parsed.type === 'signal' &&
        parsed.data?.box === true &&
        typeof parsed.data.body === 'string'
      ) {
        // A session's SDP and candidates are sealed (core/src/session/signal-envelope.ts): the relay cannot
        // read the fingerprint, so it changes what it can, a character of the sealed body.
        const body = parsed.data.body;
        parsed.data.body = (body[0] === 'A' ? 'B' : 'A') + body.slice(1);
        text = JSON.stringify(parsed);
      } else if (mode === 'tamper' && parsed.type === 'signal' && typeof parsed.data?.signal?.sdp === 'string') {
        parsed.data.signal.sdp = reverseFingerprints(parsed.data.signal.sdp);
        text = JSON.stringify(parsed);
      }
      if (mode === 'impersonate' && swap && clientId === swap.target)
        text = text.split(swap.impostor).join(swap.victim);
      client.send(text);
    };
    bridgeWebSockets(client, upstream, { up, down });
  });
  process.send?.({ type: 'listening', port, url: `ws://${address}:${port}/ws` });
  process.on('SIGTERM', () => {
    wss.close();
    void inner.close().then(() => process.exit(0));
  });
}

/** Starts the V8 CPU profiler; the function it gives back stops it and writes the profile to a file. */
async function startProfiler(): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async (file) => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
  };
}
