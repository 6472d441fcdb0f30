// A protocol-level relay client for tests: real `ws`, a real WebCrypto identity, every relay message validated
// with the protocol's schemas, and helpers that await the next message of a given type.
import WebSocket from 'ws';
import {
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  ServerMessageSchema,
  identityIdOf,
  relayAuthStatement,
  signWith,
  toBase64url,
  watchGrantStatement,
  type KeyAlgorithm,
  type ServerMessage,
  type WatchGrant,
} from '../../../signaling/protocol/index.js';

export interface TestIdentity {
  alg: KeyAlgorithm;
  /** Raw public key, base64url. */
  pub: string;
  /** Identity id derived from (alg, pub). */
  id: string;
  privateKey: CryptoKey;
}

export async function createIdentity(alg: KeyAlgorithm = 'Ed25519'): Promise<TestIdentity> {
  const params = alg === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256' };
  const pair = (await crypto.subtle.generateKey(params, false, ['sign', 'verify'])) as CryptoKeyPair;
  const pub = toBase64url(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)));
  return { alg, pub, id: await identityIdOf({ alg, pub }), privateKey: pair.privateKey };
}

/** Signs the relay auth statement the way a real client does. */
export async function signAuth(identity: TestIdentity, nonce: string, host: string): Promise<string> {
  return toBase64url(await signWith(identity.alg, identity.privateKey, relayAuthStatement(nonce, identity.id, host)));
}

/** `of`'s watch grant for `watcher` (what a contact holds after accepting), valid for `ttlMs`. */
export async function watchGrant(of: TestIdentity, watcher: string, ttlMs = 3600_000): Promise<WatchGrant> {
  const exp = Date.now() + ttlMs;
  const sig = toBase64url(await signWith(of.alg, of.privateKey, watchGrantStatement(of.id, watcher, exp)));
  return { of: of.id, key: { alg: of.alg, pub: of.pub }, to: watcher, exp, sig };
}

export type MessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

export interface RawClientOptions {
  /** Trusted CA certificate(s) for wss. */
  ca?: string | Buffer;
  /** Source address to connect from (e.g. 127.0.0.2, to spread ports over several loopback addresses). */
  localAddress?: string;
  /** Default time a `next*` call waits before it fails. */
  timeoutMs?: number;
  /** false: never answer the relay's pings (a dead-looking client). */
  autoPong?: boolean;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

interface Waiter {
  type: string;
  resolve: (msg: ServerMessage) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class RawClient {
  /** Every message received, in order (including those already taken by `next`). */
  readonly received: ServerMessage[] = [];
  /** Text frames that failed the protocol's ServerMessageSchema: tests assert this stays empty. */
  readonly invalid: string[] = [];
  readonly closed: Promise<CloseInfo>;
  /** Resolved nonce of the relay's challenge (set once it arrives). */
  nonce: string | null = null;

  private readonly queue: ServerMessage[] = [];
  private readonly frames: Buffer[] = [];
  private readonly waiters: Waiter[] = [];
  private frameWaiter: { resolve: (b: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | null =
    null;
  private frameHandler: ((frame: Buffer) => void) | null = null;
  private closeInfo: CloseInfo | null = null;
  private readonly timeoutMs: number;

  private constructor(
    readonly ws: WebSocket,
    readonly url: string,
    timeoutMs: number,
  ) {
    this.timeoutMs = timeoutMs;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        const err = new Error(`relay connection closed (${code} ${reason.toString()})`);
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(err);
        }
        if (this.frameWaiter) {
          clearTimeout(this.frameWaiter.timer);
          this.frameWaiter.reject(err);
          this.frameWaiter = null;
        }
        resolve(this.closeInfo);
      });
    });
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('error', () => {}); // surfaced through `closed`
  }

  /** Opens a WebSocket to the relay; resolves once open (the challenge follows as a message). */
  static open(url: string, options: RawClientOptions = {}): Promise<RawClient> {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_BYTES,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
      ...(options.autoPong === false ? { autoPong: false } : {}),
    });
    const client = new RawClient(ws, url, options.timeoutMs ?? 5_000);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`relay answered HTTP ${res.statusCode}`)));
    });
  }

  /** The Host a real client signs: the host of the URL it connected to. */
  get statementHost(): string {
    return new URL(this.url).host;
  }

  get closeCode(): number | null {
    return this.closeInfo?.code ?? null;
  }

  /** hello → auth → ready, signing over the relay's nonce and `host` (default: the URL's host). */
  async authenticate(identity: TestIdentity, host = this.statementHost): Promise<MessageOf<'ready'>> {
    const { nonce } = await this.next('challenge');
    this.send({ type: 'hello', v: PROTOCOL_VERSION, alg: identity.alg, pub: identity.pub });
    this.send({ type: 'auth', sig: await signAuth(identity, nonce, host) });
    return this.next('ready');
  }

  send(message: object): void {
    this.ws.send(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary });
  }

  /** Sends a binary frame, resolving once it is handed to the socket (use for flow control). */
  sendFrame(frame: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) =>
      this.ws.send(frame, { binary: true }, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** The next message of `type` (earlier ones of that type first); other types stay queued for their own `next`. */
  next<T extends ServerMessage['type']>(type: T, timeoutMs = this.timeoutMs): Promise<MessageOf<T>> {
    const i = this.queue.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0] as MessageOf<T>);
    if (this.closeInfo)
      return Promise.reject(new Error(`relay connection closed (${this.closeInfo.code}) before a ${type} message`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        type,
        resolve: resolve as (m: ServerMessage) => void,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          const pending = this.queue.map((m) => m.type).join(', ') || 'none';
          reject(new Error(`no ${type} message within ${timeoutMs} ms (queued: ${pending})`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** The next error message, asserting nothing else about it. */
  nextError(timeoutMs?: number): Promise<MessageOf<'error'>> {
    return this.next('error', timeoutMs);
  }

  /** Messages received and not yet taken by `next`. */
  pending(): readonly ServerMessage[] {
    return this.queue;
  }

  /** The next binary frame (when no frame handler is set). */
  nextFrame(timeoutMs = this.timeoutMs): Promise<Buffer> {
    const frame = this.frames.shift();
    if (frame) return Promise.resolve(frame);
    return new Promise((resolve, reject) => {
      this.frameWaiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.frameWaiter = null;
          reject(new Error(`no binary frame within ${timeoutMs} ms`));
        }, timeoutMs),
      };
    });
  }

  /** Streams binary frames to `handler` instead of queueing them (large transfers). */
  onFrame(handler: ((frame: Buffer) => void) | null): void {
    this.frameHandler = handler;
  }

  /** Closes and resolves with the close event. */
  close(code = 1000): Promise<CloseInfo> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
    return this.closed;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      if (this.frameHandler) this.frameHandler(data);
      else if (this.frameWaiter) {
        const w = this.frameWaiter;
        this.frameWaiter = null;
        clearTimeout(w.timer);
        w.resolve(data);
      } else this.frames.push(data);
      return;
    }
    const text = data.toString('utf8');
    let msg: ServerMessage;
    try {
      const parsed = ServerMessageSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error('schema');
      msg = parsed.data;
    } catch {
      this.invalid.push(text);
      return;
    }
    if (msg.type === 'challenge') this.nonce = msg.nonce;
    this.received.push(msg);
    const i = this.waiters.findIndex((w) => w.type === msg.type);
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      clearTimeout(w!.timer);
      w!.resolve(msg);
    } else {
      this.queue.push(msg);
    }
  }
}

/** Opens a connection and authenticates it as `identity` (a fresh one by default). */
export async function connectAs(
  url: string,
  identity?: TestIdentity,
  options?: RawClientOptions,
): Promise<{ client: RawClient; identity: TestIdentity; ready: MessageOf<'ready'> }> {
  const id = identity ?? (await createIdentity());
  const client = await RawClient.open(url, options);
  const ready = await client.authenticate(id);
  return { client, identity: id, ready };
}
