// Raw TCP sockets against a relay, for attacks a WebSocket library would not make: sending nothing, sending
// headers a byte at a time, completing an upgrade and then never answering anything (not even a close frame).
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface RawSocket {
  readonly socket: Socket;
  /** Every byte received so far. */
  readonly received: () => Buffer;
  /** Resolves once the relay (or anything) closed the socket. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
}

/** Opens a TCP connection (from `localAddress`, e.g. 127.0.0.5) and resolves once connected. */
export function openRawSocket(port: number, localAddress = '127.0.0.1', host = '127.0.0.1'): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host, localAddress });
    const chunks: Buffer[] = [];
    let closed = false;
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {}); // a reset shows as close
    const closedPromise = new Promise<void>((r) =>
      socket.once('close', () => {
        closed = true;
        r();
      }),
    );
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve({ socket, received: () => Buffer.concat(chunks), closed: closedPromise, isClosed: () => closed });
    });
    socket.once('error', reject);
  });
}

/** True when `promise` settles within `ms`: an upper bound on waiting, never a timing assertion. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A WebSocket upgrade request for /ws, written by hand. */
export function upgradeRequest(host: string, headers: Record<string, string> = {}): string {
  const lines = [
    'GET /ws HTTP/1.1',
    `Host: ${host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Resolves with the status code of the first response line the socket receives. */
export function responseStatus(raw: RawSocket): Promise<number> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const text = raw.received().toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) {
        resolve(Number(m[1]));
        return true;
      }
      return false;
    };
    if (check()) return;
    const onData = (): void => {
      if (check()) raw.socket.off('data', onData);
    };
    raw.socket.on('data', onData);
    void raw.closed.then(() => {
      if (!check()) reject(new Error('closed before a response'));
    });
  });
}
