// One client connection: the authentication state machine, the per-connection budget and violations,
// and dispatch of control messages to presence, signals and channels.
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  CloseCode,
  ErrorCode,
  MAX_FRAME_BYTES,
  rawPublicKey,
  type AuthMessage,
  type ClientMessage,
  type HelloMessage,
  type PublicIdentityKey,
} from '../protocol/index.js';
import { newNonce, statementHosts, verifyAuth, type ArrivalAddress } from './auth.js';
import type { Channel, ChannelSlot, FlowReceiver } from './channels.js';
import type { RelayContext } from './context.js';
import { parseControl } from './inbound.js';
import { challengeText, errorText, pongText, readyText, type ErrorExtras } from './outbound.js';
import { answerTurnRequest, turnForReady } from './turn-credentials.js';
import { ackMail, deliverMail, postMail } from './mailbox.js';
import { forwardSignal } from './signals.js';
import { TokenBucket } from './token-bucket.js';
import { tapFrames, type FrameSplitter } from './frame-tap.js';
import type { RelayPeer } from './peer.js';
import type { PresenceSlot } from './presence.js';
import { mayTellOffline, subscribeWithGrants, unsubscribeGranted } from './watch-grants.js';

const AWAIT_HELLO = 0;
const AWAIT_AUTH = 1;
const READY = 2;
const CLOSING = 3;
const CLOSED = 4;
/**
 * Authenticated, waiting for the cluster to admit the identity (cap per identity, a Redis round trip). Still
 * unauthenticated for every budget and the auth deadline; what the client sends meanwhile is held.
 */
const ADMITTING = 5;

const OPEN = 1; // WebSocket.OPEN
const TEXT_OPTIONS = { binary: false, compress: false, fin: true } as const;
const BINARY_OPTIONS = { binary: true, compress: false, fin: true } as const;
/** What sendBinaryParts checks of `ws`'s sender: it queues only while compressing or reading a Blob. */
interface SenderState {
  _state: number;
  _queue: unknown[];
}
/** Violations older than this no longer count toward the limit. */
const VIOLATION_MEMORY_MS = 60_000;
/**
 * Messages held while an asynchronous step (cluster admission, mail kept in Redis) finishes, so answers keep
 * the order of requests. The socket is paused meanwhile, so only what was already read can arrive; beyond
 * this many the connection is closed.
 */
const MAX_HELD = 1_024;

const CONN = Symbol('parley.connection');
type Tagged = WebSocket & { [CONN]: Connection };

function onWsMessage(this: WebSocket, data: unknown, isBinary: boolean): void {
  (this as Tagged)[CONN].onMessage(data as Buffer, isBinary);
}
function onWsPong(this: WebSocket): void {
  (this as Tagged)[CONN].alive = true;
}
function onWsClose(this: WebSocket, code: number): void {
  (this as Tagged)[CONN].onClose(code);
}
function onWsError(this: WebSocket, err: Error): void {
  (this as Tagged)[CONN].onError(err);
}

function onTapBinary(this: Connection, parts: Uint8Array[], length: number): void {
  // Views of the socket's chunks, which are Buffers (Buffer#subarray gives Buffers).
  this.onBinaryParts(parts as Buffer[], length);
}

function uncork(conn: Connection): void {
  conn.flushWrites();
}

/** A client connection: the one implementation of RelayPeer and of every module's slot on it. */
export class Connection implements RelayPeer, PresenceSlot, ChannelSlot {
  /** The authenticated identity id; null until `ready`. */
  id: string | null = null;
  subscriptions: Set<string> | null = null;
  channels: Map<number, Channel> | null = null;
  /** Channel numbers closed lately, whose in-flight frames are dropped without complaint. */
  recentlyClosed: number[] | null = null;
  pendingOpens = 0;
  /** Receivers whose full queues keep this connection paused. */
  blockedOn: Set<FlowReceiver> | null = null;
  /** Senders paused because of this connection's full queue. */
  blocking: Set<Connection> | null = null;
  /** Heard from since the last heartbeat ping. */
  alive = true;

  private state = AWAIT_HELLO;
  private nonce: string | null = newNonce();
  private key: PublicIdentityKey | null = null;
  private arrival: ArrivalAddress | null;
  private authTimer: NodeJS.Timeout | null;
  private writeCallback: (() => void) | null = null;
  private drainListener: (() => void) | null = null;
  private drainArmed = false;
  private corked = false;
  private violations = 0;
  private lastViolationAt = 0;
  private readonly bucket: TokenBucket;
  /** Messages that arrived while an asynchronous step was under way (see MAX_HELD); null when none is. */
  private held: { data: Buffer; isBinary: boolean }[] | null = null;
  private holds = 0;
  /** Takes binary frames off `ws` once authenticated (frame-tap.ts): forwarded without joining them. */
  private readonly tap: FrameSplitter;

  constructor(
    readonly serial: number,
    readonly ws: WebSocket,
    /** The TCP (or TLS) socket under `ws`, for corking. */
    private readonly socket: Duplex,
    arrival: ArrivalAddress,
    private readonly ctx: RelayContext,
    /** Gives back this connection's place in the unauthenticated budget (idempotent). */
    private readonly leaveUnauthenticated: () => void = () => {},
  ) {
    this.arrival = arrival;
    const { limits } = ctx;
    this.bucket = new TokenBucket(limits.messagesPerSecond, limits.messageBurst, performance.now());
    // Shared listeners that find the connection on the socket: no closures per connection (memory at 20k+).
    (ws as Tagged)[CONN] = this;
    ws.on('message', onWsMessage);
    ws.on('pong', onWsPong);
    ws.on('close', onWsClose);
    ws.on('error', onWsError);
    this.tap = tapFrames(ws, MAX_FRAME_BYTES);
    this.authTimer = setTimeout(() => this.onAuthTimeout(), limits.authTimeoutMs);
    this.authTimer.unref();
    ws.send(challengeText(this.nonce!));
  }

  get authenticated(): boolean {
    return this.state === READY;
  }

  /** Write callback for frames sent to this connection: releases paused senders once its queue is low. */
  get afterWrite(): () => void {
    return (this.writeCallback ??= () => {
      if (this.blocking !== null && this.ws.bufferedAmount <= this.ctx.limits.channelLowWaterBytes)
        this.ctx.channels.release(this);
    });
  }

  /** Releases the senders this connection holds back once its socket has flushed everything queued. */
  releaseOnDrain(): void {
    if (this.drainArmed) return;
    this.drainArmed = true;
    this.socket.once(
      'drain',
      (this.drainListener ??= () => {
        this.drainArmed = false;
        if (this.blocking !== null) this.ctx.channels.release(this);
      }),
    );
  }

  sendText(text: string): void {
    if (this.ws.readyState !== OPEN) return;
    this.batchWrites();
    this.ws.send(text, TEXT_OPTIONS, this.blocking !== null ? this.afterWrite : undefined);
  }

  /**
   * One binary frame of the parts' concatenation, written straight to the socket after its frame header (the
   * socket is corked, so header and parts leave in one writev). `ws` is bypassed only while its sender has
   * nothing queued (it never queues here: no compression, no Blobs), so frames keep their order.
   */
  sendBinaryParts(parts: readonly Buffer[], length: number, callback?: () => void): void {
    if (this.ws.readyState !== OPEN) return;
    const sender = (this.ws as unknown as { _sender: SenderState })._sender;
    if (sender._state !== 0 || sender._queue.length > 0) {
      this.ws.send(parts.length === 1 ? parts[0]! : Buffer.concat(parts as Buffer[], length), BINARY_OPTIONS, callback);
      return;
    }
    this.batchWrites();
    const socket = this.socket;
    socket.write(binaryFrameHead(length));
    const last = parts.length - 1;
    for (let i = 0; i < last; i++) socket.write(parts[i]!);
    socket.write(parts[last]!, callback);
  }

  /** A text frame already encoded (shared by several recipients). */
  sendControl(payload: Buffer): void {
    if (this.ws.readyState !== OPEN) return;
    this.batchWrites();
    this.ws.send(payload, TEXT_OPTIONS, this.blocking !== null ? this.afterWrite : undefined);
  }

  /**
   * Holds this connection's writes until the end of the current tick, so everything the relay forwards to it
   * while handling one chunk of input leaves in one writev instead of one syscall per message. No added delay:
   * the batch is flushed before the event loop moves on.
   */
  batchWrites(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(uncork, this);
  }

  /** @internal */
  flushWrites(): void {
    this.corked = false;
    this.socket.uncork();
  }

  /** @internal socket event */
  onError(err: Error): void {
    this.ctx.logger.debug({ conn: this.serial, err: err.message }, 'websocket error');
  }

  mayLearnOffline(id: string): boolean {
    return mayTellOffline(this, id);
  }

  sendError(code: ErrorCode, message: string, extras?: ErrorExtras): void {
    // The one place "offline" leaves the relay: only about identities this connection holds a watch grant for.
    if (code === ErrorCode.Offline && !mayTellOffline(this, extras?.to)) return;
    this.sendText(errorText(code, message, extras));
  }

  /** An error the client caused. Repeated ones close the connection. */
  violation(code: ErrorCode, message: string, extras?: ErrorExtras, closeCode: CloseCode = CloseCode.BadMessage): void {
    this.sendError(code, message, extras);
    const { counters, limits } = this.ctx;
    counters.violations++;
    const now = performance.now();
    if (now - this.lastViolationAt > VIOLATION_MEMORY_MS) this.violations = 0;
    this.lastViolationAt = now;
    if (++this.violations >= limits.maxViolations && this.state !== CLOSING && this.state !== CLOSED) {
      counters.closedForViolations++;
      this.ctx.logger.info(
        { conn: this.serial, id: this.id, code, violations: this.violations },
        'closing connection after repeated violations',
      );
      this.close(closeCode, 'too many violations');
    }
  }

  /** Heartbeat tick: terminates a connection that stayed silent since the previous ping. */
  tick(): void {
    if (this.ws.readyState !== OPEN) return;
    if (!this.alive && !this.mutedByBackpressure()) {
      this.ctx.counters.heartbeatTerminations++;
      this.ctx.logger.debug({ conn: this.serial, id: this.id }, 'no heartbeat: terminating');
      this.state = CLOSING;
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  /** Graceful shutdown of the relay. */
  shutdown(): void {
    this.close(CloseCode.GoingAway, 'relay shutting down');
  }

  terminate(): void {
    this.ws.terminate();
  }

  private close(code: CloseCode, reason: string): void {
    if (this.state === CLOSED) return;
    this.state = CLOSING;
    // Read again (after auth or backpressure pauses) so the client's close reply is seen; input is ignored now.
    this.ws.resume();
    this.ws.close(code, reason);
  }

  /** An error then a close: for failures the client cannot recover from on this connection. */
  private fail(code: ErrorCode, message: string, closeCode: CloseCode): void {
    this.sendError(code, message);
    this.close(closeCode, code);
  }

  /**
   * A sender we stopped reading cannot answer pings until its receiver drains, so it is not judged — unless
   * every receiver it waits on is itself paused (two stalled peers blocking each other), where nobody would be.
   */
  private mutedByBackpressure(): boolean {
    if (this.blockedOn === null) return false;
    for (const receiver of this.blockedOn) if (receiver.blockedOn === null) return true;
    return false;
  }

  /** @internal socket event */
  onMessage(data: Buffer, isBinary: boolean): void {
    this.alive = true;
    if (this.held !== null) {
      if (this.state === CLOSING || this.state === CLOSED) return;
      if (this.held.length < MAX_HELD) this.held.push({ data, isBinary });
      else this.close(CloseCode.BadMessage, 'too many messages while busy');
      return;
    }
    try {
      const state = this.state;
      if (state === READY && isBinary) {
        this.ctx.channels.forward(this, data);
        return;
      }
      if (state === CLOSING || state === CLOSED) return;
      if (!this.bucket.take(performance.now())) {
        this.ctx.counters.rateLimited++;
        this.violation(
          ErrorCode.RateLimited,
          `more than ${this.ctx.limits.messagesPerSecond} messages per second (burst ${this.ctx.limits.messageBurst}); message dropped`,
          undefined,
          CloseCode.RateLimited,
        );
        return;
      }
      if (isBinary) {
        this.violation(ErrorCode.NotAuthenticated, 'binary frames are accepted only after ready');
        return;
      }
      const parsed = parseControl(data);
      if (!parsed.ok) {
        if (parsed.code === ErrorCode.Version && state === AWAIT_HELLO)
          this.fail(parsed.code, parsed.message, CloseCode.Version);
        else
          this.violation(parsed.code === ErrorCode.Version ? ErrorCode.BadMessage : parsed.code, parsed.message, {
            ref: parsed.ref,
          });
        return;
      }
      this.dispatch(parsed.msg, parsed.raw);
    } catch (err) {
      this.internalError(err);
    }
  }

  /** @internal a binary frame the tap took (only while authenticated), as its pieces. */
  onBinaryParts(parts: Buffer[], length: number): void {
    this.alive = true;
    if (this.held !== null) {
      this.onMessage(parts.length === 1 ? parts[0]! : Buffer.concat(parts, length), true);
      return;
    }
    if (this.state !== READY) return;
    try {
      this.ctx.channels.forwardParts(this, parts, length);
    } catch (err) {
      this.internalError(err);
    }
  }

  private dispatch(msg: ClientMessage, raw: Record<string, unknown>): void {
    const { ctx } = this;
    if (this.state === READY) {
      switch (msg.type) {
        case 'signal':
          forwardSignal(ctx.presence, ctx.counters, this, msg.to, raw.data, msg.ref, ctx.cluster?.signals ?? null);
          return;
        case 'subscribe':
          subscribeWithGrants(ctx, this, msg.grants);
          return;
        case 'unsubscribe':
          unsubscribeGranted(ctx, this, msg.ids);
          return;
        case 'mail':
          this.holdUntil(postMail(ctx, this, msg.to, raw.body, msg.ref));
          return;
        case 'mail-ack':
          this.holdUntil(ackMail(ctx, this, msg.ids));
          return;
        case 'channel-open':
          ctx.channels.open(this, msg.to, msg.tag);
          return;
        case 'channel-close':
          ctx.channels.close(this, msg.channel);
          return;
        case 'ping':
          this.sendText(pongText(msg.ref));
          return;
        case 'turn-credentials':
          answerTurnRequest(ctx.turn, this, msg.ref);
          return;
        case 'hello':
        case 'auth':
          this.violation(ErrorCode.BadMessage, `${msg.type}: already authenticated`);
          return;
      }
    }
    if (msg.type === 'hello') {
      if (this.state === AWAIT_HELLO) this.onHello(msg);
      else this.violation(ErrorCode.BadMessage, 'hello: already received; send auth');
      return;
    }
    if (msg.type === 'auth') {
      if (this.state === AWAIT_AUTH) this.onAuth(msg);
      else this.violation(ErrorCode.BadMessage, 'auth: send hello first');
      return;
    }
    this.violation(ErrorCode.NotAuthenticated, `${msg.type}: authenticate first (hello, auth, wait for ready)`);
  }

  private onHello(msg: HelloMessage): void {
    const key: PublicIdentityKey = { alg: msg.alg, pub: msg.pub };
    try {
      rawPublicKey(key);
    } catch (err) {
      this.violation(ErrorCode.BadMessage, `hello: pub: ${(err as Error).message}`);
      return;
    }
    this.key = key;
    this.state = AWAIT_AUTH;
  }

  private onAuth(msg: AuthMessage): void {
    const hosts = statementHosts(this.arrival!, this.ctx.acceptHosts);
    const result = verifyAuth(this.key!, this.nonce!, msg.sig, hosts);
    // One attempt per nonce: success or failure, it is never accepted again.
    this.nonce = null;
    this.arrival = null;
    this.key = null;
    const { ctx } = this;
    if (!result.ok) {
      ctx.counters.authFailures++;
      ctx.logger.debug({ conn: this.serial, reason: result.reason }, 'authentication failed');
      this.fail(ErrorCode.AuthFailed, `authentication failed: ${result.reason}`, CloseCode.AuthFailed);
      return;
    }
    if (ctx.authenticated >= ctx.limits.maxConnections) {
      this.fail(
        ErrorCode.ServerFull,
        `relay is at its limit of ${ctx.limits.maxConnections} connections`,
        CloseCode.ServerFull,
      );
      return;
    }
    const admission = ctx.presence.admit(result.id);
    if (admission === null) {
      this.becomeReady(result.id);
      return;
    }
    // Still unauthenticated (its budget place kept, the deadline running): a stalled Redis cannot keep it.
    this.state = ADMITTING;
    this.holdUntil(
      admission.then(
        (refusal) => {
          if (this.state !== ADMITTING) {
            // Closed meanwhile (deadline, client gone): undo the admission, nothing of it stays registered.
            if (refusal === null) ctx.presence.release(result.id);
            return;
          }
          if (refusal !== null) this.fail(refusal.code, refusal.message, CloseCode.ServerFull);
          else this.becomeReady(result.id);
        },
        (err: unknown) => {
          if (this.state === ADMITTING) this.internalError(err);
        },
      ),
    );
  }

  /**
   * Holds this connection's input until `step` settles (a plain value: nothing to wait for), then handles what
   * arrived meanwhile, in order.
   */
  private holdUntil(step: Promise<void> | void): void {
    if (!(step instanceof Promise)) return;
    this.holds++;
    this.held ??= [];
    this.ws.pause();
    void step.finally(() => {
      if (--this.holds > 0) return;
      const queue = this.held ?? [];
      this.held = null;
      if (this.state === CLOSING || this.state === CLOSED) return;
      this.ws.resume();
      for (let i = 0; i < queue.length; i++) {
        const { data, isBinary } = queue[i]!;
        this.onMessage(data, isBinary);
        if (this.held !== null) {
          // Another asynchronous step began: the rest waits for it, ahead of anything newer.
          (this.held as { data: Buffer; isBinary: boolean }[]).unshift(...queue.slice(i + 1));
          return;
        }
      }
    });
  }

  private becomeReady(id: string): void {
    const { ctx } = this;
    this.leaveUnauthenticated();
    this.id = id;
    this.state = READY;
    this.tap.onBinary = onTapBinary.bind(this);
    this.clearAuthTimer();
    ctx.authenticated++;
    ctx.counters.authenticatedTotal++;
    this.sendText(readyText(id, ctx.limitsInfo, turnForReady(ctx.turn, id)));
    ctx.presence.add(this, id);
    this.holdUntil(deliverMail(ctx, this));
    ctx.logger.debug({ conn: this.serial, id }, 'authenticated');
  }

  /**
   * Terminated, not closed: a close handshake would keep a silent socket (the usual reason to get here) for
   * ws's 30 s close timeout, on top of the deadline. The error and close frame go out first, best effort.
   */
  private onAuthTimeout(): void {
    this.authTimer = null;
    if (this.state === READY || this.state === CLOSED) return;
    this.ctx.counters.authTimeouts++;
    if (this.state !== CLOSING)
      this.fail(
        ErrorCode.AuthTimeout,
        `no valid auth within ${this.ctx.limits.authTimeoutMs} ms`,
        CloseCode.AuthTimeout,
      );
    if (this.corked) this.flushWrites();
    this.state = CLOSING;
    this.ws.terminate();
  }

  private clearAuthTimer(): void {
    if (this.authTimer !== null) {
      clearTimeout(this.authTimer);
      this.authTimer = null;
    }
  }

  /** @internal socket event */
  onClose(code: number): void {
    const wasReady = this.id !== null; // state may already say CLOSING
    this.state = CLOSED;
    this.clearAuthTimer();
    this.leaveUnauthenticated();
    const { ctx } = this;
    try {
      ctx.channels.dropConnection(this, 'peer disconnected');
      ctx.presence.remove(this);
    } catch (err) {
      ctx.counters.internalErrors++;
      ctx.logger.error({ conn: this.serial, err: errorSummary(err) }, 'internal error while cleaning up a connection');
    }
    if (wasReady) ctx.authenticated--;
    ctx.logger.debug({ conn: this.serial, id: this.id, code }, 'connection closed');
    ctx.onConnectionClosed(this);
  }

  private internalError(err: unknown): void {
    this.ctx.counters.internalErrors++;
    this.ctx.logger.error({ conn: this.serial, err: errorSummary(err) }, 'internal error handling a message');
    if (this.state !== READY) {
      this.fail(ErrorCode.Internal, 'internal relay error during authentication', CloseCode.AuthFailed);
      return;
    }
    this.sendError(ErrorCode.Internal, 'internal relay error');
  }
}

/** A server's (unmasked) header of a final binary frame of `length` payload bytes (RFC 6455 §5.2). */
function binaryFrameHead(length: number): Buffer {
  if (length < 126) {
    const head = Buffer.allocUnsafe(2);
    head[0] = 0x82;
    head[1] = length;
    return head;
  }
  if (length < 0x10000) {
    const head = Buffer.allocUnsafe(4);
    head[0] = 0x82;
    head[1] = 126;
    head.writeUInt16BE(length, 2);
    return head;
  }
  const head = Buffer.allocUnsafe(10);
  head[0] = 0x82;
  head[1] = 127;
  head.writeUInt32BE(Math.floor(length / 0x100000000), 2);
  head.writeUInt32BE(length >>> 0, 6);
  return head;
}

/** Name and stack only: an error message could quote input, and payloads are never logged. */
function errorSummary(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const frames = err.stack?.split('\n').slice(1, 6).join('\n') ?? '';
  return `${err.name}\n${frames}`;
}
