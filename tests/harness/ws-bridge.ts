// A WebSocket proxy's one job, shared by the test relays that sit in the middle (a hostile or curious relay in
// front of the real one): joins a client's socket to its upstream socket. What the client sends goes up (held
// until the upstream is open; `up` may rewrite it); what the upstream sends goes to `down`, which forwards it
// as it is or altered; either end closing or failing closes both.
import { WebSocket, type RawData } from 'ws';

export interface BridgeOptions {
  /** The upstream's messages (the proxy sends them on to the client itself, as they are or altered). */
  down(data: Buffer, binary: boolean): void;
  /** The client's messages on their way up (default: as they are). */
  up?(data: RawData, binary: boolean): RawData | string;
}

export function bridgeWebSockets(client: WebSocket, upstream: WebSocket, options: BridgeOptions): void {
  const early: Array<{ data: RawData | string; binary: boolean }> = [];
  client.on('message', (data, binary) => {
    const out = options.up ? options.up(data, binary) : data;
    if (upstream.readyState === WebSocket.OPEN) upstream.send(out, { binary });
    else early.push({ data: out, binary });
  });
  upstream.on('open', () => {
    for (const m of early.splice(0)) upstream.send(m.data, { binary: m.binary });
  });
  upstream.on('message', (data, binary) => {
    options.down(
      Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]),
      binary,
    );
  });
  const closeBoth = (): void => {
    client.close();
    upstream.close();
  };
  client.on('close', closeBoth);
  upstream.on('close', closeBoth);
  client.on('error', closeBoth);
  upstream.on('error', closeBoth);
}
