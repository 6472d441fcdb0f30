// node:net for the session's direct TCP path (core/src/session/tcp-path.ts): listen on an ephemeral port
// on each non-loopback interface address (never a wildcard: the port exists only where the hints say),
// and connect by racing every hint.
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { TcpHint, TcpListener, TcpPlatform } from '../../../../core/src/session/tcp-path.js';
import { MAX_TCP_HINTS } from '../../../../core/src/session/tcp-path.js';
import type { RecordSocket } from '../../../../core/src/session/transport.js';
import { TcpFrameSocket, type FrameSocketOptions } from './frame-socket.js';

export { TcpFrameSocket } from './frame-socket.js';

export interface NodeTcpOptions extends FrameSocketOptions {
  /** Addresses to listen on (default: every non-internal interface address; link-local skipped). */
  addresses?: () => string[];
}

/** This machine's non-loopback addresses a contact on the same network could reach. */
export function interfaceAddresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] {
  const out: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv6' && /^fe80:/i.test(a.address)) continue; // needs a scope id; not worth a hint
      // An address the OS gave itself for want of DHCP; the desktop app refuses such hints (hintProblem).
      if (a.family === 'IPv4' && a.address.startsWith('169.254.')) continue;
      out.push(a.address);
    }
  }
  return out.slice(0, MAX_TCP_HINTS);
}

function listenOn(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.maxConnections = 16;
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

class NodeTcpListener implements TcpListener {
  readonly hints: TcpHint[];
  readonly #servers: Server[];
  readonly #handlers = new Set<(socket: RecordSocket) => void>();
  #closed = false;

  constructor(servers: Server[], options: FrameSocketOptions) {
    this.#servers = servers;
    this.hints = servers.map((s) => {
      const a = s.address();
      if (a === null || typeof a === 'string') throw new Error('a TCP listener has no address');
      return { host: a.address, port: a.port };
    });
    for (const s of servers) {
      s.on('connection', (socket: Socket) => {
        if (this.#closed || this.#handlers.size === 0) {
          socket.destroy();
          return;
        }
        const framed = new TcpFrameSocket(socket, options);
        for (const h of this.#handlers) h(framed);
      });
      s.on('error', () => this.close());
    }
  }

  onConnection(handler: (socket: RecordSocket) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers.clear();
    for (const s of this.#servers) s.close();
  }
}

/** The TcpPlatform the CLI gives its Messenger. */
export function nodeTcp(options: NodeTcpOptions = {}): TcpPlatform {
  const addresses = options.addresses ?? interfaceAddresses;
  return {
    async listen(): Promise<TcpListener> {
      const hosts = addresses();
      if (hosts.length === 0) throw new Error('no non-loopback interface address to listen on');
      const settled = await Promise.allSettled(hosts.map((h) => listenOn(h)));
      const servers = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      if (servers.length === 0) throw new Error('could not listen on any interface address');
      return new NodeTcpListener(servers, options);
    },

    connect(hints: readonly TcpHint[], timeoutMs: number): Promise<RecordSocket> {
      return new Promise((resolve, reject) => {
        const sockets: Socket[] = [];
        let failed = 0;
        let done = false;
        const finish = (winner: Socket | null, error?: Error): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          for (const s of sockets) if (s !== winner) s.destroy();
          if (winner) resolve(new TcpFrameSocket(winner, options));
          else reject(error ?? new Error('no TCP hint answered'));
        };
        const timer = setTimeout(
          () => finish(null, new Error(`no TCP hint answered within ${timeoutMs} ms`)),
          timeoutMs,
        );
        for (const hint of hints) {
          const s = netConnect({ host: hint.host, port: hint.port });
          sockets.push(s);
          s.once('connect', () => finish(s));
          s.once('error', () => {
            if (++failed === hints.length) finish(null, new Error('every TCP hint refused the connection'));
          });
        }
        if (hints.length === 0) finish(null, new Error('no TCP hints'));
      });
    },
  };
}
