// A bare WebSocket forwarder (the relay-throughput baseline): no auth, no encryption, no framing.
// argv: <address> <port>. Clients connect to /source or /sink; every binary message from the source
// goes to the sink, with backpressure (the source socket pauses while the sink is behind).
import { WebSocketServer, type WebSocket } from 'ws';

const [address = '0.0.0.0', portText = '0'] = process.argv.slice(2);
const wss = new WebSocketServer({
  host: address,
  port: Number(portText),
  perMessageDeflate: false,
  maxPayload: 1024 * 1024,
});
await new Promise((resolve) => wss.once('listening', resolve));
let sink: WebSocket | null = null;
let source: WebSocket | null = null;
let outstanding = 0;
const HIGH = 4 * 1024 * 1024;

wss.on('connection', (ws, req) => {
  if (req.url === '/sink') sink = ws;
  else if (req.url === '/source') {
    source = ws;
    ws.on('message', (data: Buffer) => {
      if (!sink) return;
      outstanding += data.length;
      if (outstanding > HIGH) (source as unknown as { _socket: { pause(): void } })._socket.pause();
      sink.send(data, { binary: true }, () => {
        outstanding -= data.length;
        if (outstanding <= HIGH / 2) (source as unknown as { _socket: { resume(): void } } | null)?._socket.resume();
      });
    });
  }
});
const port = (wss.address() as { port: number }).port;
process.send?.({ type: 'listening', port });
process.on('SIGTERM', () => {
  wss.close();
  process.exit(0);
});
