// The direct TCP path (like magic-wormhole's transit hints), for runtimes that can open sockets (the CLI).
// The follower (the side that answers) listens on an ephemeral port bound to its own interface addresses
// and sends those addresses to the leader in a sealed, signed session signal; the leader races a
// connection to each and both run the relay transport's signed key agreement and AES-GCM records over
// it (relay-transport.ts). A connection that does not finish the handshake within the deadline is
// dropped; the listener closes once one verifies or its time is up.
// core has no sockets: the runtime injects a TcpPlatform (platform/node/src/tcp).
import { z } from 'zod';
import type { PublicIdentityKey } from '../../../signaling/protocol/index.js';
import type { AeadEngine } from '../crypto/aead-engine.js';
import type { IdentityKeyPair } from '../identity/keys.js';
import { silentLogger, type Logger } from '../platform/types.js';
import { RelayTransport } from './relay-transport.js';
import { SidSchema } from './signals.js';
import type { FrameTransport, RecordSocket } from './transport.js';

/** At most this many addresses in one hint signal. */
export const MAX_TCP_HINTS = 8;

export const TcpHintSchema = z.object({
  host: z.union([z.ipv4(), z.ipv6()]),
  port: z.number().int().min(1).max(65_535),
});
export type TcpHint = z.infer<typeof TcpHintSchema>;

/** Leader → follower: "listen and tell me where" (sid names this attempt and binds its handshake). */
export const TcpWantSignalSchema = z.object({ kind: z.literal('tcp'), op: z.literal('want'), sid: SidSchema });
/** Follower → leader: the addresses it listens on for this attempt. */
export const TcpHintsSignalSchema = z.object({
  kind: z.literal('tcp'),
  op: z.literal('hints'),
  sid: SidSchema,
  hints: z.array(TcpHintSchema).min(1).max(MAX_TCP_HINTS),
});
/**
 * Follower → leader: it will not listen for this attempt (relay only, a runtime without sockets, or no address
 * to listen on), so the leader stops waiting for hints at once. A peer from before this signal stays silent,
 * and the leader gives up when its wait for hints ends.
 */
export const TcpNoneSignalSchema = z.object({ kind: z.literal('tcp'), op: z.literal('none'), sid: SidSchema });
export const TcpSignalSchema = z.discriminatedUnion('op', [
  TcpWantSignalSchema,
  TcpHintsSignalSchema,
  TcpNoneSignalSchema,
]);
export type TcpSignal = z.infer<typeof TcpSignalSchema>;

export interface TcpListener {
  /** Where it listens: specific interface addresses, never a wildcard. */
  readonly hints: readonly TcpHint[];
  /** Each accepted connection (framed), until close(). */
  onConnection(handler: (socket: RecordSocket) => void): () => void;
  /** Stops accepting (connections already handed out stay open). */
  close(): void;
}

/** What the runtime gives the session for the TCP path. */
export interface TcpPlatform {
  /** Listens on an ephemeral port on this machine's non-loopback interface addresses (rejects if it has none). */
  listen(): Promise<TcpListener>;
  /** Connects to the hints at once; the first connection up wins, the others are dropped. */
  connect(hints: readonly TcpHint[], timeoutMs: number): Promise<RecordSocket>;
}

export interface TcpHandshakeOptions {
  identity: IdentityKeyPair;
  peerKey: PublicIdentityKey;
  peerId: string;
  sid: string;
  handshakeTimeoutMs: number;
  aead?: AeadEngine;
}

function establish(socket: RecordSocket, o: TcpHandshakeOptions, role: 'initiator' | 'responder') {
  return RelayTransport.establish({
    socket,
    path: 'tcp',
    identity: o.identity,
    peerKey: o.peerKey,
    peerId: o.peerId,
    sessionId: o.sid,
    role,
    handshakeTimeoutMs: o.handshakeTimeoutMs,
    ...(o.aead ? { aead: o.aead } : {}),
  });
}

/** Leader side: races the hints, then the handshake as initiator. */
export async function connectTcp(
  platform: TcpPlatform,
  hints: readonly TcpHint[],
  o: TcpHandshakeOptions,
): Promise<FrameTransport> {
  const socket = await platform.connect(hints, o.handshakeTimeoutMs);
  return establish(socket, o, 'initiator');
}

/** A listening attempt (follower side): resolves with the first connection that completes the handshake. */
export class TcpAccept {
  readonly ready: Promise<FrameTransport>;
  #listener: TcpListener | null = null;
  #done = false;
  #reject: (error: Error) => void = () => {};
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #pending = new Set<RecordSocket>();

  /** Unverified connections handshaking at once; more are dropped on arrival. */
  static readonly MAX_PENDING = 8;

  constructor(listener: TcpListener, o: TcpHandshakeOptions, listenMs: number, log: Logger = silentLogger) {
    this.#listener = listener;
    this.ready = new Promise<FrameTransport>((resolve, reject) => {
      this.#reject = reject;
      this.#timer = setTimeout(() => this.cancel('no TCP connection completed the handshake in time'), listenMs);
      listener.onConnection((socket) => {
        if (this.#done || this.#pending.size >= TcpAccept.MAX_PENDING) {
          socket.close();
          return;
        }
        this.#pending.add(socket);
        establish(socket, o, 'responder').then(
          (transport) => {
            this.#pending.delete(socket);
            if (this.#done) {
              transport.close('another TCP connection won');
              return;
            }
            this.#done = true;
            this.#closeAll();
            resolve(transport);
          },
          (error: unknown) => {
            // establish() closed the socket: a stranger, garbage, silence past the deadline, the wrong key.
            this.#pending.delete(socket);
            log.info({ sid: o.sid, reason: String(error) }, 'TCP connection dropped before it verified');
          },
        );
      });
    });
  }

  cancel(reason: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#closeAll();
    this.#reject(new Error(reason));
  }

  #closeAll(): void {
    clearTimeout(this.#timer);
    this.#listener?.close();
    this.#listener = null;
    for (const s of this.#pending) s.close();
    this.#pending.clear();
  }
}
