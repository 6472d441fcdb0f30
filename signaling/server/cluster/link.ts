// Node-to-node links: one TCP connection carries every cross-node relay channel between two nodes. Both ends
// prove they hold the cluster secret (HMAC over both sides' fresh nonces and node ids) before anything else
// passes. Frames: [u32 length][u8 type][body]; DATA bodies are a client frame whose channel header already
// names the receiving node's channel, so the receiver forwards them untouched.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { z } from 'zod';
import { IdentityIdSchema, MAX_FRAME_BYTES } from '../../protocol/index.js';
import type { RelayLogger } from '../logger.js';

const T_CONTROL = 1;
const T_DATA = 2;
const T_CREDIT = 3;
const T_HELLO = 16;
const T_AUTH = 17;
const T_OK = 18;

const NONCE = 32;
const MAC = 32;
const MAX_LINK_FRAME = MAX_FRAME_BYTES + 16;
const MAX_HANDSHAKE_FRAME = 256;
const MAX_CONTROL = 4096;
const HANDSHAKE_TIMEOUT_MS = 5_000;

const chan = z.number().int().min(1).max(0xffffffff);
const tag = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/);
export const LinkControlSchema = z.discriminatedUnion('t', [
  /** Joiner → home: connect `peer`'s open to the open `opener` holds at home; the joiner's channel is `chan`. */
  z.object({
    t: z.literal('join'),
    j: z.number().int().nonnegative(),
    opener: IdentityIdSchema,
    peer: IdentityIdSchema,
    tag,
    chan,
  }),
  /** Home → joiner: paired; the home's channel is `chan`. */
  z.object({ t: z.literal('joined'), j: z.number().int().nonnegative(), chan }),
  /** Home → joiner: the open is no longer waiting. */
  z.object({ t: z.literal('gone'), j: z.number().int().nonnegative() }),
  /** Either way: the sender's side closed; `chan` is the receiver's channel. */
  z.object({ t: z.literal('close'), chan, reason: z.string().max(200) }),
]);
export type LinkControl = z.infer<typeof LinkControlSchema>;

export interface LinkEvents {
  control(link: Link, msg: LinkControl): void;
  /** `body` is [u32 receiver's channel][payload]. */
  data(link: Link, body: Buffer): void;
  credit(link: Link, chan: number, bytes: number): void;
  closed(link: Link): void;
}

function mac(secret: string, label: string, nonceS: Buffer, nonceC: Buffer, a: string, b: string): Buffer {
  return createHmac('sha256', secret)
    .update(`parley-link-1 ${label}\0`)
    .update(nonceS)
    .update(nonceC)
    .update(`\0${a}\0${b}`)
    .digest();
}

function header(length: number, type: number): Buffer {
  const h = Buffer.allocUnsafe(5);
  h.writeUInt32BE(length + 1, 0);
  h[4] = type;
  return h;
}

function flush(link: Link): void {
  link.uncork();
}

export class Link {
  peerNode: string | null = null;
  /** Cross-node channel ends on this link, by this node's channel number. */
  readonly ends = new Map<number, unknown>();
  bytesSent = 0;
  bytesReceived = 0;
  readonly ready: Promise<void>;

  private up = false;
  private closedFlag = false;
  private corked = false;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1;
  private nonceS: Buffer | null = null;
  private nonceC: Buffer | null = null;
  private readyResolve!: () => void;
  private readyReject!: (err: Error) => void;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly socket: Socket,
    private readonly role: 'accept' | 'connect',
    private readonly nodeId: string,
    private readonly secret: string,
    private readonly events: LinkEvents,
    private readonly logger: RelayLogger,
    /** For links we dial: the node we expect to answer. */
    private readonly expectNode: string | null = null,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    this.ready.catch(() => undefined);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.logger.debug({ peer: this.peerNode, err: err.message }, 'cluster link error'));
    socket.on('close', () => this.onClose());
    this.timer = setTimeout(() => {
      if (!this.up) this.destroy('handshake timeout');
    }, HANDSHAKE_TIMEOUT_MS);
    this.timer.unref();
    if (role === 'accept') {
      this.nonceS = randomBytes(NONCE);
      this.writeFrame(T_HELLO, Buffer.concat([this.nonceS, Buffer.from(nodeId)]));
    }
  }

  get isUp(): boolean {
    return this.up && !this.closedFlag;
  }

  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  sendControl(msg: LinkControl): void {
    if (!this.isUp) return;
    this.writeFrame(T_CONTROL, Buffer.from(JSON.stringify(msg)));
  }

  /** `frame` is [u32 channel][payload] with the channel already the receiving node's. */
  sendData(frame: Buffer): void {
    if (!this.isUp) return;
    this.batch();
    this.socket.write(header(frame.length, T_DATA));
    this.socket.write(frame);
    this.bytesSent += frame.length + 5;
  }

  sendCredit(chanNum: number, bytes: number): void {
    if (!this.isUp) return;
    const body = Buffer.allocUnsafe(8);
    body.writeUInt32BE(chanNum, 0);
    body.writeUInt32BE(bytes, 4);
    this.writeFrame(T_CREDIT, body);
  }

  destroy(reason: string): void {
    if (this.closedFlag) return;
    this.logger.info({ peer: this.peerNode, reason }, 'cluster link closed');
    this.socket.destroy();
    this.onClose();
  }

  /** @internal */
  uncork(): void {
    this.corked = false;
    this.socket.uncork();
  }

  private batch(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(flush, this);
  }

  private writeFrame(type: number, body: Buffer): void {
    this.batch();
    this.socket.write(header(body.length, type));
    this.socket.write(body);
    this.bytesSent += body.length + 5;
  }

  private onClose(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    clearTimeout(this.timer);
    this.readyReject(new Error('cluster link closed'));
    this.events.closed(this);
  }

  private onData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    try {
      for (;;) {
        if (this.closedFlag) return;
        if (this.need < 0) {
          if (this.buffered < 4) return;
          if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks)];
          const len = this.chunks[0]!.readUInt32BE(0);
          if (len < 1 || len > (this.up ? MAX_LINK_FRAME : MAX_HANDSHAKE_FRAME)) {
            this.destroy(`bad frame length ${len}`);
            return;
          }
          this.need = len;
        }
        if (this.buffered < 4 + this.need) return;
        const frame = this.take(4 + this.need);
        this.need = -1;
        this.onFrame(frame[4]!, frame.subarray(5));
      }
    } catch (err) {
      this.destroy(`bad frame: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - off);
        c.copy(out, off, 0, k);
        off += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return out;
  }

  private onFrame(type: number, body: Buffer): void {
    if (!this.up) {
      this.handshake(type, body);
      return;
    }
    switch (type) {
      case T_DATA:
        if (body.length < 4) throw new Error('short data frame');
        this.events.data(this, body);
        return;
      case T_CREDIT:
        if (body.length !== 8) throw new Error('bad credit frame');
        this.events.credit(this, body.readUInt32BE(0), body.readUInt32BE(4));
        return;
      case T_CONTROL: {
        if (body.length > MAX_CONTROL) throw new Error('control frame too large');
        const parsed = LinkControlSchema.safeParse(JSON.parse(body.toString('utf8')));
        if (!parsed.success) throw new Error('invalid control message');
        this.events.control(this, parsed.data);
        return;
      }
      default:
        throw new Error(`unknown frame type ${type}`);
    }
  }

  private handshake(type: number, body: Buffer): void {
    if (this.role === 'connect' && type === T_HELLO && this.nonceC === null) {
      if (body.length <= NONCE) throw new Error('short hello');
      this.nonceS = Buffer.from(body.subarray(0, NONCE));
      const server = body.subarray(NONCE).toString('utf8');
      if (this.expectNode !== null && server !== this.expectNode)
        throw new Error(`dialled ${this.expectNode}, ${server} answered`);
      this.peerNode = server;
      this.nonceC = randomBytes(NONCE);
      const m = mac(this.secret, 'client', this.nonceS, this.nonceC, this.nodeId, server);
      this.writeFrame(T_AUTH, Buffer.concat([this.nonceC, m, Buffer.from(this.nodeId)]));
      return;
    }
    if (this.role === 'accept' && type === T_AUTH && this.nonceC === null) {
      if (body.length <= NONCE + MAC) throw new Error('short auth');
      const nonceC = Buffer.from(body.subarray(0, NONCE));
      const client = body.subarray(NONCE + MAC).toString('utf8');
      const expected = mac(this.secret, 'client', this.nonceS!, nonceC, client, this.nodeId);
      if (!timingSafeEqual(expected, body.subarray(NONCE, NONCE + MAC)) || !/^[A-Za-z0-9_.-]{1,64}$/.test(client)) {
        throw new Error('wrong cluster secret');
      }
      this.nonceC = nonceC;
      this.peerNode = client;
      this.writeFrame(T_OK, mac(this.secret, 'server', this.nonceS!, nonceC, this.nodeId, client));
      this.becomeUp();
      return;
    }
    if (this.role === 'connect' && type === T_OK && this.nonceC !== null) {
      const expected = mac(this.secret, 'server', this.nonceS!, this.nonceC, this.peerNode!, this.nodeId);
      if (body.length !== MAC || !timingSafeEqual(expected, body))
        throw new Error('peer does not hold the cluster secret');
      this.becomeUp();
      return;
    }
    throw new Error(`unexpected handshake frame ${type}`);
  }

  private becomeUp(): void {
    this.up = true;
    clearTimeout(this.timer);
    this.logger.info({ peer: this.peerNode, role: this.role }, 'cluster link up');
    this.readyResolve();
  }
}

/** The link listener and the links this node dialled, one per peer node. */
export class LinkPool {
  readonly all = new Set<Link>();
  private readonly dialled = new Map<string, Link>();
  private server: Server | null = null;
  address = '';

  constructor(
    private readonly nodeId: string,
    private readonly secret: string,
    private readonly events: LinkEvents,
    private readonly logger: RelayLogger,
  ) {}

  async listen(host: string, port: number, advertiseHost: string): Promise<void> {
    const server = createServer((socket) =>
      this.track(new Link(socket, 'accept', this.nodeId, this.secret, this.wrap(), this.logger)),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.logger.error({ err: err.message }, 'cluster link server error'));
    this.server = server;
    const bound = (server.address() as AddressInfo).port;
    this.address = `${advertiseHost.includes(':') ? `[${advertiseHost}]` : advertiseHost}:${bound}`;
  }

  /** The link to `node` at `address` ("host:port"), dialling it when there is none. */
  async to(node: string, address: string): Promise<Link> {
    const existing = this.dialled.get(node);
    if (existing !== undefined) {
      await existing.ready;
      return existing;
    }
    const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(address);
    if (m === null) throw new Error(`bad link address ${address}`);
    const socket = connect({ host: m[1]!, port: Number(m[2]) });
    const link = this.track(new Link(socket, 'connect', this.nodeId, this.secret, this.wrap(), this.logger, node));
    this.dialled.set(node, link);
    await link.ready;
    return link;
  }

  async close(): Promise<void> {
    for (const link of [...this.all]) link.destroy('node shutting down');
    const server = this.server;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private track(link: Link): Link {
    this.all.add(link);
    return link;
  }

  private wrap(): LinkEvents {
    return {
      control: (l, m) => this.events.control(l, m),
      data: (l, b) => this.events.data(l, b),
      credit: (l, c, b) => this.events.credit(l, c, b),
      closed: (l) => {
        this.all.delete(l);
        for (const [node, d] of this.dialled) if (d === l) this.dialled.delete(node);
        this.events.closed(l);
      },
    };
  }
}
