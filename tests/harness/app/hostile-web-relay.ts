// A hostile relay for web-client tests: the real relay serving the built client listens on loopback, and a
// proxy on the host address forwards every HTTP request and WebSocket message to and from it. Told over IPC
// ({ type: 'tamper', how }), it alters one sealed record of a call's relay media channel (tag "cm.…") on its
// way to a client, once the channel carries media: 'replay' sends a record the client already received
// again, 'forge' flips one bit of a record. What a relay that wants to disturb or probe a call can do to the
// bytes it carries (it cannot read them).
// argv: <listen address> <port> <static dir> [JSON RelayOptions.turn], as web-relay.ts. Reports over IPC: { type: 'listening', url, httpUrl, port },
// { type: 'tampered', how, channel }.
import { createServer, request } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { bridgeWebSockets } from '../ws-bridge.js';
import { silentLogger, startRelay, type RelayOptions } from '../../../signaling/server/index.js';

type How = 'replay' | 'forge';

const [address = '0.0.0.0', portText = '0', staticDir, turnJson] = process.argv.slice(2);
if (!staticDir) throw new Error('usage: hostile-web-relay <address> <port> <static dir>');
const publicHost = `${address}:${portText}`;
/** Records a media channel carries before one is altered: its key agreement is long done by then. */
const AFTER_RECORDS = 100;

const relay = await startRelay({
  host: '127.0.0.1',
  port: 0,
  staticDir,
  insecureHttp: true,
  acceptHosts: [publicHost],
  logger: silentLogger,
  ...(turnJson ? { turn: JSON.parse(turnJson) as NonNullable<RelayOptions['turn']> } : {}),
});

let pending: How | null = null;
process.on('message', (m: { type?: string; how?: How }) => {
  if (m.type === 'tamper' && (m.how === 'replay' || m.how === 'forge')) pending = m.how;
});

const server = createServer((req, res) => {
  const upstream = request(
    { host: '127.0.0.1', port: relay.port, method: req.method, path: req.url, headers: req.headers },
    (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(res);
    },
  );
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
});

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (client) => {
    const upstream = new WebSocket(`ws://127.0.0.1:${relay.port}${req.url ?? '/'}`, {
      perMessageDeflate: false,
      headers: { host: req.headers.host ?? publicHost },
      ...(req.headers.origin ? { origin: req.headers.origin } : {}),
    });
    /** This client's media channels: records seen, and the last one (to replay). */
    const media = new Map<number, { records: number; last: Buffer | null }>();
    const down = (bytes: Buffer, binary: boolean): void => {
      if (!binary) {
        const text = bytes.toString('utf8');
        const ready = /^\{"type":"channel-ready","channel":(\d+),"peer":"[^"]*","tag":"cm\./.exec(text);
        if (ready) media.set(Number(ready[1]), { records: 0, last: null });
        client.send(text);
        return;
      }
      const channel = bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
      const m = media.get(channel);
      if (!m) {
        client.send(bytes, { binary: true });
        return;
      }
      m.records++;
      const how = pending;
      if (how && m.records > AFTER_RECORDS && m.last) {
        pending = null;
        if (how === 'replay') {
          client.send(bytes, { binary: true });
          client.send(m.last, { binary: true });
        } else {
          const forged = Buffer.from(bytes);
          forged[4 + Math.floor((forged.length - 4) / 2)]! ^= 1;
          client.send(forged, { binary: true });
        }
        process.send?.({ type: 'tampered', how, channel });
      } else {
        client.send(bytes, { binary: true });
      }
      m.last = bytes; // a message's own buffer (ws does not reuse it)
    };
    bridgeWebSockets(client, upstream, { down });
  });
});
await new Promise<void>((resolve) => server.listen(Number(portText), address, resolve));
process.send?.({
  type: 'listening',
  port: Number(portText),
  url: `ws://${publicHost}${new URL(relay.url).pathname}`,
  httpUrl: `http://${publicHost}/`,
});
process.on('SIGTERM', () => {
  server.close();
  void relay.close().then(() => process.exit(0));
});
