// TCP-level guards, before any HTTP or WebSocket work: a cap on sockets in total and per peer address, and a
// deadline from accept to a complete request head. Without them a socket that sends nothing (or its headers a
// byte at a time) was kept for minutes, and a few hundred of them exhausted the descriptors honest clients need.
import type { Socket } from 'node:net';
import type { RelayCounters } from './counters.js';
import type { RelayLogger } from './logger.js';
import { addressKey, canonicalAddress, type RelayLimits } from './options.js';

/** Counts per key, refusing to go beyond a cap. */
export class AddressBudget {
  private readonly counts = new Map<string, number>();

  constructor(private readonly cap: number) {}

  /** Takes one unit for `key`; false (nothing taken) when the key is at its cap. */
  take(key: string): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.cap) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = this.counts.get(key) ?? 0;
    if (n <= 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
  }

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

const HEAD_TIMER = Symbol('parley.headTimer');
type Timed = Socket & { [HEAD_TIMER]?: NodeJS.Timeout };

function destroySocket(socket: Socket): void {
  socket.destroy();
}

export class SocketGuard {
  /** Sockets open right now. */
  open = 0;
  private readonly perIp: AddressBudget;
  readonly trusted: ReadonlySet<string>;

  constructor(
    private readonly limits: Pick<RelayLimits, 'maxSockets' | 'maxSocketsPerIp' | 'requestHeadTimeoutMs'>,
    trustedProxies: readonly string[],
    private readonly counters: RelayCounters,
    private readonly logger: RelayLogger,
  ) {
    this.perIp = new AddressBudget(limits.maxSocketsPerIp);
    this.trusted = new Set(trustedProxies);
  }

  /** server 'connection' (the raw TCP socket, also under TLS): admits or closes it. */
  admit(socket: Socket): void {
    const address = canonicalAddress(socket.remoteAddress);
    if (address === null) {
      socket.destroy(); // already gone
      return;
    }
    if (this.open >= this.limits.maxSockets) {
      this.refuse(socket, 'total');
      return;
    }
    const key = this.trusted.has(address) ? null : addressKey(address);
    if (key !== null && !this.perIp.take(key)) {
      this.refuse(socket, 'per-address');
      return;
    }
    this.open++;
    socket.once('close', () => {
      this.open--;
      if (key !== null) this.perIp.release(key);
    });
  }

  /**
   * Starts the head deadline on the socket HTTP reads requests from (the TCP socket, or the TLS socket once
   * its handshake is done; the handshake itself is bounded by the server's handshakeTimeout).
   */
  startHeadDeadline(socket: Socket): void {
    const timer = setTimeout(() => {
      this.counters.headTimeouts++;
      destroySocket(socket);
    }, this.limits.requestHeadTimeoutMs);
    timer.unref();
    (socket as Timed)[HEAD_TIMER] = timer;
    socket.once('close', () => this.headReceived(socket));
  }

  /** A complete request head arrived ('request' or 'upgrade'): from here on HTTP's own timeouts apply. */
  headReceived(socket: Socket): void {
    const timer = (socket as Timed)[HEAD_TIMER];
    if (timer !== undefined) {
      clearTimeout(timer);
      // Not `delete`: deleting a property puts the socket object in dictionary mode (more memory per socket).
      (socket as Timed)[HEAD_TIMER] = undefined;
    }
  }

  private refuse(socket: Socket, which: string): void {
    this.counters.socketsRefused++;
    this.logger.debug({ which }, 'socket refused at accept');
    socket.destroy();
  }
}

/**
 * The address a request comes from: the TCP peer, or — only when that peer is a trusted proxy — the last
 * X-Forwarded-For entry that is not itself a trusted proxy. Canonical form (see canonicalAddress).
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: ReadonlySet<string>,
): string | null {
  const address = canonicalAddress(peer);
  if (address === null || !trusted.has(address) || forwardedFor === undefined) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = canonicalAddress(hops[i]!.trim());
    if (hop === null) return address; // a malformed hop: trust nothing further left
    if (!trusted.has(hop)) return hop;
  }
  return address;
}
