// The transfer engine: every offer we send or receive, the link to each contact they run on, and the
// public API. Attaching a contact's stream (new session, or the same contact back after a drop or a
// restart) makes every unfinished outgoing offer re-offer itself; the receiver answers with where each
// file continues. That single resync covers link drops, path switches the session could not bridge, and
// either side restarting.
import type { IdentityId, Unsubscribe } from '../api.js';
import { silentLogger, type KeyValueStore, type Logger } from '../platform/types.js';
import { releaseLease } from '../session/buffer-lease.js';
import type { TransferLink, ResolvedOptions, TransferContext } from './context.js';
import { TransferError, TransferErrorCode } from './errors.js';
import { Incoming } from './incoming.js';
import type { FileSink, FileSource } from './io.js';
import { offerPathsProblem } from './names.js';
import { Outgoing } from './outgoing.js';
import {
  decodeFrame,
  DEFAULT_CHUNK_BYTES,
  encodeControl,
  MAX_CHUNK_BYTES,
  MAX_CONTROL_BYTES,
  MAX_FILES_PER_OFFER,
  MAX_WINDOW_BYTES,
  newOfferId,
  type ControlMessage,
  type ControlOf,
  type OfferFile,
} from './protocol.js';
import { TransferStore, type OfferRecord } from './store.js';
import type { BulkPlatform } from './bulk-platform.js';
import type { Sha256StreamFactory } from './hash.js';
import type { FrameStream } from './stream.js';
import type { OfferDecision, OutgoingFile, TransferEventMap, TransferInfo, TransferStats } from './types.js';

export interface TransferEngineOptions {
  store: KeyValueStore;
  source: FileSource;
  sink: FileSink;
  logger?: Logger;
  /** Clock for progress (ms). */
  now?: () => number;
  /** Offers from contacts this says are unknown are declined without asking. Default: nobody is known. */
  isKnownContact?: (contactId: IdentityId) => boolean | Promise<boolean>;
  /** For offers from known contacts: accept, decline, or ask the user (emit 'offer'). Default: ask. */
  decide?: (offer: TransferInfo) => OfferDecision | Promise<OfferDecision>;
  /** Bytes of file data per chunk frame (default and most: 262,051, one 256 KiB message with headers). */
  chunkBytes?: number;
  /** Bytes sent but not yet written by the receiver, at most, on the direct path (default 4 MiB, at most 16 MiB). */
  windowBytes?: number;
  /** The same over the relay (default 8 MiB, at least windowBytes). */
  relayWindowBytes?: number;
  /** Receiver acknowledges every this many written bytes (default 1 MiB, or a quarter of a smaller window). */
  ackBytes?: number;
  /** Receiver checkpoints every this many bytes (default 1 % of the file, between 4 and 64 MiB). */
  checkpointBytes?: number | ((size: number) => number);
  /** Largest unverified tail a receiver re-hashes on resume instead of asking for it again (default 64 MiB). */
  maxTailBytes?: number;
  /** Least time between two progress events of one offer (default 250 ms). */
  progressIntervalMs?: number;
  /** Most incoming offers from one contact waiting for a decision (default 32). */
  maxPendingPerContact?: number;
  /**
   * Which unfinished outgoing offers re-offer themselves when a contact's stream attaches (default all).
   * The CLI continues only the offer a `send` is sending again, not every earlier one in parallel.
   */
  resumeOnAttach?: (offer: TransferInfo) => boolean;
  /**
   * The runtime's native incremental SHA-256 for the file digest's blocks (Node: platform/node/src/hash.ts).
   * Default: WebCrypto, one job per 1 MiB block copied out of the chunks.
   */
  blockHash?: Sha256StreamFactory;
  /**
   * Moves file bytes on bulk lanes (a TCP connection per file, outside the session stream) when both sides
   * have one and the session runs over TCP: Node, the desktop's main process. Default: none, every byte on
   * the session stream.
   */
  bulk?: BulkPlatform;
  /** Files at least this big go on a lane (default 1 MiB: a smaller one costs less than the lane's handshake). */
  bulkMinBytes?: number;
}

type Transfer = Outgoing | Incoming;
type Handler<K extends keyof TransferEventMap> = (payload: TransferEventMap[K]) => void;

const MIME_DEFAULT = 'application/octet-stream';
/** Declined offers kept per contact (so a re-offer gets the same answer); older ones are forgotten. */
export const MAX_DECLINED_PER_CONTACT = 64;

/**
 * 1 % of the file, 4–64 MiB. A checkpoint costs two fdatasyncs (the partial, then the store) and
 * only bounds what a power cut can lose: after a crash or kill the bytes written past it are kept
 * and checked (see incoming.ts), so frequent checkpoints bought little (0.5 % of 100 MB was 200 pairs
 * of fsyncs per 100 MB).
 */
export function defaultCheckpointBytes(size: number): number {
  return Math.min(64 * 1024 * 1024, Math.max(4 * 1024 * 1024, Math.floor(size / 100)));
}

/**
 * Bytes in flight (sent, not yet written by the receiver) on the direct path: sixteen 256 KiB chunks.
 * It bounds the receiver's memory, and what a killed receiver costs: data it had received but not yet
 * written is sent again (data still in the sender's session is re-delivered and kept, see
 * incoming.ts). At 768 KiB the sender waited for acks half of the time in bench:transfer.
 */
export const DEFAULT_WINDOW_BYTES = 4 * 1024 * 1024;
/**
 * The relay path's ack round trip is longer (an extra hop, AEAD sealing and opening on both ends,
 * ws buffering), so it gets more in flight.
 */
export const DEFAULT_RELAY_WINDOW_BYTES = 8 * 1024 * 1024;

function resolveOptions(options: TransferEngineOptions): ResolvedOptions {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1024 || chunkBytes > MAX_CHUNK_BYTES) {
    throw new RangeError(`chunkBytes must be an integer from 1024 to ${MAX_CHUNK_BYTES}`);
  }
  const windowBytes = options.windowBytes ?? DEFAULT_WINDOW_BYTES;
  const relayWindowBytes = options.relayWindowBytes ?? Math.max(windowBytes, DEFAULT_RELAY_WINDOW_BYTES);
  for (const [name, value] of [
    ['windowBytes', windowBytes],
    ['relayWindowBytes', relayWindowBytes],
  ] as const) {
    if (!Number.isInteger(value) || value < 2 * chunkBytes || value > MAX_WINDOW_BYTES) {
      throw new RangeError(`${name} must be an integer from two chunks to ${MAX_WINDOW_BYTES}`);
    }
  }
  // An ack every quarter window, at most every 1 MiB: often enough to slide the window smoothly. Each
  // ack is a control frame and a message through the data channel (a synchronous hop to WebRTC's
  // thread on node-wrtc): acking every 256 KiB chunk cost measurably more CPU on both sides.
  const ackBytes =
    options.ackBytes ??
    Math.max(chunkBytes, Math.min(1024 * 1024, Math.floor(Math.min(windowBytes, relayWindowBytes) / 4)));
  const checkpoint = options.checkpointBytes;
  return {
    chunkBytes,
    windowBytes,
    relayWindowBytes,
    ackBytes,
    checkpointBytes: typeof checkpoint === 'number' ? () => checkpoint : (checkpoint ?? defaultCheckpointBytes),
    maxTailBytes: options.maxTailBytes ?? 64 * 1024 * 1024,
    progressIntervalMs: options.progressIntervalMs ?? 250,
    ...(options.blockHash ? { blockHash: options.blockHash } : {}),
    bulkMinBytes: options.bulkMinBytes ?? 1024 * 1024,
  };
}

export class TransferEngine {
  readonly stats: TransferStats = {
    chunkBytesSent: 0,
    chunkBytesReceived: 0,
    duplicateBytes: 0,
    resumeRequests: 0,
    windowWaitMs: 0,
    streamWaitMs: 0,
    maxQueuedBytes: 0,
    laneBytesSent: 0,
    laneBytesReceived: 0,
  };
  private readonly transfers = new Map<string, Transfer>();
  private readonly links = new Map<
    IdentityId,
    { link: TransferLink & { closed: boolean }; unsubscribe: Unsubscribe }
  >();
  private readonly handlers = new Map<keyof TransferEventMap, Set<(payload: never) => void>>();
  /** New incoming offers being decided; later frames for them wait their turn. */
  private readonly deciding = new Map<string, Promise<void>>();
  /** Offers per contact counted against the pending limit while their decision awaits (issue 12.9). */
  private readonly reserved = new Map<string, number>();
  private readonly store: TransferStore;
  private readonly logger: Logger;
  private readonly ctx: TransferContext;
  private epoch = 0;
  private started = false;

  constructor(private readonly options: TransferEngineOptions) {
    this.logger = options.logger ?? silentLogger;
    this.store = new TransferStore(options.store, this.logger);
    const resolved = resolveOptions(options);
    this.ctx = {
      source: options.source,
      sink: options.sink,
      ...(options.bulk ? { bulk: options.bulk } : {}),
      store: this.store,
      logger: this.logger,
      options: resolved,
      stats: this.stats,
      now: options.now ?? (() => Date.now()),
      link: (contactId) => this.links.get(contactId)?.link,
      emit: (event, payload) => this.emit(event, payload),
    };
  }

  /** Loads persisted transfers. Call once before attaching streams. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const { record, files } of await this.store.loadAll()) {
      if (this.transfers.has(record.offerId)) continue;
      const transfer =
        record.direction === 'out' ? new Outgoing(this.ctx, record, files) : new Incoming(this.ctx, record, files);
      if (transfer instanceof Incoming) transfer.latestRound = record.round;
      this.transfers.set(record.offerId, transfer);
    }
  }

  on<K extends keyof TransferEventMap>(event: K, handler: Handler<K>): Unsubscribe {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as (payload: never) => void);
    return () => set.delete(handler as (payload: never) => void);
  }

  /**
   * A stream to `contactId` is up (a new session, or the contact came back). Unfinished outgoing offers
   * re-offer themselves on it. Returns the detach function; attaching again replaces the previous stream.
   */
  attach(contactId: IdentityId, stream: FrameStream): Unsubscribe {
    this.detach(contactId);
    const link = {
      contactId,
      epoch: ++this.epoch,
      closed: false,
      path: () => stream.path(),
      route: () => stream.route?.() ?? 'none',
      chunkBytes: () => stream.chunkBytes?.(),
      control: (message: ControlMessage) => {
        if (link.closed) return;
        let frame: Uint8Array;
        try {
          frame = encodeControl(message);
        } catch (error) {
          this.logger.error({ t: message.t, message: String(error) }, 'transfer: control message not sent');
          return;
        }
        stream.send(frame).catch(() => {});
      },
      chunk: (frame: Uint8Array, onAcked?: () => void) =>
        link.closed ? Promise.reject(new Error('link closed')) : stream.send(frame, onAcked),
    };
    const offFrame = stream.onFrame((payload) => this.onFrame(link, payload));
    const offReset = stream.onReset?.(() => {
      if (!link.closed) this.resync(contactId);
    });
    const unsubscribe = () => {
      offFrame();
      offReset?.();
    };
    this.links.set(contactId, { link, unsubscribe });
    this.resync(contactId);
    return () => {
      if (this.links.get(contactId)?.link === link) this.detach(contactId);
    };
  }

  /** Contacts we still have unfinished offers to: the app should bring their sessions up at start. */
  contactsWithUnfinished(): IdentityId[] {
    const ids = new Set<IdentityId>();
    for (const t of this.transfers.values()) if (t instanceof Outgoing && !t.final) ids.add(t.contactId);
    return [...ids];
  }

  /** Every unfinished outgoing offer to the contact re-offers itself: the receiver says where to continue. */
  private resync(contactId: IdentityId): void {
    for (const transfer of this.transfers.values()) {
      if (transfer.contactId !== contactId || !(transfer instanceof Outgoing)) continue;
      if (this.options.resumeOnAttach && !transfer.final && !this.options.resumeOnAttach(transfer.info())) continue;
      transfer.offer();
    }
  }

  /** Re-offers one unfinished outgoing offer now, if its contact is attached (the receiver says where to continue). */
  reoffer(offerId: string): void {
    const transfer = this.transfers.get(offerId);
    if (transfer instanceof Outgoing) transfer.offer();
  }

  /** The stream to `contactId` is gone. Transfers pause and continue on the next attach. */
  detach(contactId: IdentityId): void {
    const entry = this.links.get(contactId);
    if (!entry) return;
    entry.link.closed = true;
    entry.unsubscribe();
    this.links.delete(contactId);
    for (const transfer of this.transfers.values()) if (transfer.contactId === contactId) transfer.detach();
  }

  /**
   * Offers files to a contact. Paths are validated first (a bad name throws TransferError 'bad-name' and
   * nothing is sent). Large selections are split into several offers. Works offline: the offer goes out
   * when the contact's stream attaches.
   */
  async send(contactId: IdentityId, files: readonly OutgoingFile[]): Promise<TransferInfo[]> {
    if (files.length === 0) throw new TransferError(TransferErrorCode.BadName, 'nothing to send');
    for (const file of files) {
      if (!Number.isSafeInteger(file.size) || file.size < 0)
        throw new TransferError(TransferErrorCode.TooLarge, `bad size for ${file.relativePath}`);
    }
    const problem = offerPathsProblem(files.map((f) => f.relativePath));
    if (problem) throw new TransferError(TransferErrorCode.BadName, problem);
    const infos: TransferInfo[] = [];
    for (const group of packOffers(files)) {
      const record: OfferRecord = {
        v: 1,
        direction: 'out',
        offerId: newOfferId(),
        contactId,
        createdAt: this.ctx.now(),
        state: 'offered',
        round: 0,
        total: group.reduce((sum, f) => sum + f.size, 0),
        files: group.map((f, fileId) => ({ ...offerFile(f, fileId), source: f.source })),
      };
      await this.store.saveOffer(record);
      const outgoing = new Outgoing(this.ctx, record);
      this.transfers.set(record.offerId, outgoing);
      outgoing.offer();
      infos.push(outgoing.info());
    }
    return infos;
  }

  /** Accepts an incoming offer that is waiting for a decision. */
  accept(offerId: string): void {
    const transfer = this.incoming(offerId);
    if (transfer.state !== 'pending')
      throw new TransferError(TransferErrorCode.Protocol, 'this offer is not waiting for a decision');
    transfer.accept();
  }

  decline(offerId: string, message = 'declined'): void {
    const incoming = this.incoming(offerId);
    incoming.decline(message);
    this.capDeclined(incoming.contactId);
  }

  /**
   * Declined offers are kept so a re-offer gets the same answer, but only the newest few per contact: a
   * contact sending offer after offer to be declined must not fill the store.
   */
  private capDeclined(contactId: string): void {
    const declined = [...this.transfers.values()].filter(
      (t): t is Incoming => t instanceof Incoming && t.contactId === contactId && t.state === 'declined',
    );
    const excess = declined.length - MAX_DECLINED_PER_CONTACT;
    if (excess <= 0) return;
    for (const old of declined.sort((a, b) => a.record.createdAt - b.record.createdAt).slice(0, excess)) {
      this.transfers.delete(old.record.offerId);
      void this.store
        .deleteOffer(old.record)
        .catch((error: unknown) =>
          this.logger.warn(
            { offerId: old.record.offerId, message: String(error) },
            'transfer: could not forget a declined offer',
          ),
        );
    }
  }

  /** Cancels a whole offer (either direction) or one file of it. */
  cancel(offerId: string, fileId?: number): void {
    const transfer = this.transfers.get(offerId);
    if (!transfer) throw new TransferError(TransferErrorCode.Protocol, 'no such transfer');
    if (transfer instanceof Outgoing) transfer.cancel(fileId);
    else transfer.cancel(fileId, { code: TransferErrorCode.Cancelled, message: 'cancelled by the receiver' }, true);
  }

  /** Continues a paused incoming offer (e.g. after disk space was freed). */
  resume(offerId: string): void {
    this.incoming(offerId).resume();
  }

  get(offerId: string): TransferInfo | undefined {
    return this.transfers.get(offerId)?.info();
  }

  list(): TransferInfo[] {
    return [...this.transfers.values()].map((t) => t.info());
  }

  /** Forgets a finished transfer (history cleanup). */
  async forget(offerId: string): Promise<void> {
    const transfer = this.transfers.get(offerId);
    if (!transfer || !transfer.final) return;
    this.transfers.delete(offerId);
    await this.store.deleteOffer(transfer.record);
  }

  /** Resolves when every incoming offer's queue has been handled and state written (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.deciding.values()]);
    await Promise.all([...this.transfers.values()].map((t) => (t instanceof Incoming ? t.idle() : undefined)));
    await this.store.idle();
  }

  /** Detaches every stream, closes open partials (keeping them) and flushes state. */
  async close(): Promise<void> {
    for (const contactId of [...this.links.keys()]) this.detach(contactId);
    await Promise.all([...this.deciding.values()]);
    await Promise.all([...this.transfers.values()].map((t) => (t instanceof Incoming ? t.close() : undefined)));
    await this.store.idle();
  }

  private incoming(offerId: string): Incoming {
    const transfer = this.transfers.get(offerId);
    if (!(transfer instanceof Incoming))
      throw new TransferError(TransferErrorCode.Protocol, 'no such incoming transfer');
    return transfer;
  }

  private emit<K extends keyof TransferEventMap>(event: K, payload: TransferEventMap[K]): void {
    for (const handler of this.handlers.get(event) ?? []) {
      try {
        (handler as Handler<K>)(payload);
      } catch (error) {
        this.logger.error({ event, message: String(error) }, 'transfer: event handler threw');
      }
    }
  }

  private onFrame(link: TransferLink & { closed: boolean }, payload: Uint8Array): void {
    if (link.closed) return;
    let decoded: ReturnType<typeof decodeFrame>;
    try {
      decoded = decodeFrame(payload);
    } catch (error) {
      releaseLease(payload);
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn({ contactId: link.contactId, message }, 'transfer: bad frame from peer');
      this.emit('error', {
        contactId: link.contactId,
        code: TransferErrorCode.Protocol,
        message: `bad frame from peer: ${message}`,
      });
      return;
    }
    // Received memory may be lent (session/buffer-lease.ts): a chunk's is released by Incoming once written and
    // hashed; a control message is parsed into objects of its own, so its bytes are done with now.
    if (decoded.kind === 'chunk') {
      const transfer = this.transfers.get(decoded.chunk.offerId);
      if (transfer instanceof Incoming && transfer.contactId === link.contactId) transfer.onChunk(decoded.chunk);
      else releaseLease(payload);
      return;
    }
    releaseLease(payload);
    const message = decoded.message;
    const pending = this.deciding.get(message.offerId);
    if (pending) {
      void pending.then(() => this.onControl(link, message));
      return;
    }
    this.onControl(link, message);
  }

  private onControl(link: TransferLink & { closed: boolean }, message: ControlMessage): void {
    if (link.closed) return;
    if (message.t === 'offer') {
      this.onOffer(link, message);
      return;
    }
    const transfer = this.transfers.get(message.offerId);
    if (!transfer || transfer.contactId !== link.contactId) {
      // A peer that lost its state keeps asking about an offer we do not know: tell it to stop.
      if (message.t === 'resume' || message.t === 'accept') {
        link.control({ t: 'cancel', offerId: message.offerId, message: 'unknown offer' });
      }
      return;
    }
    if (transfer instanceof Outgoing) {
      switch (message.t) {
        case 'accept':
          return transfer.onAccept(message);
        case 'decline':
          return transfer.onDecline(message);
        case 'ack':
          return transfer.onAck(message);
        case 'result':
          return transfer.onResult(message);
        case 'resume':
          return transfer.onResume(message);
        case 'cancel':
          return transfer.onCancel(message);
        case 'error':
          return transfer.onError(message);
        case 'lane':
          return transfer.onLane(message);
        default:
          return;
      }
    }
    switch (message.t) {
      case 'lane':
        return transfer.onLane(message);
      case 'end':
        return transfer.onEnd(message);
      case 'cancel':
        return transfer.cancel(
          message.fileId,
          { code: TransferErrorCode.Cancelled, message: message.message || 'cancelled by the sender' },
          false,
        );
      case 'error':
        return transfer.onError(message);
      default:
        return;
    }
  }

  private onOffer(link: TransferLink, message: ControlOf<'offer'>): void {
    const existing = this.transfers.get(message.offerId);
    if (existing) {
      if (!(existing instanceof Incoming) || existing.contactId !== link.contactId) {
        link.control({
          t: 'decline',
          offerId: message.offerId,
          code: 'duplicate-id',
          message: 'offer id already in use',
        });
        return;
      }
      this.onReoffer(link, existing, message);
      return;
    }
    const deciding = this.decideNew(link, message).catch((error: unknown) => {
      this.logger.error({ offerId: message.offerId, message: String(error) }, 'transfer: offer handling failed');
    });
    this.deciding.set(message.offerId, deciding);
    void deciding.finally(() => this.deciding.delete(message.offerId));
  }

  private onReoffer(link: TransferLink, incoming: Incoming, message: ControlOf<'offer'>): void {
    if (!incoming.matches(message)) {
      link.control({
        t: 'cancel',
        offerId: message.offerId,
        message: 'the re-offer does not match the original offer',
      });
      return;
    }
    incoming.offered(message);
    switch (incoming.state) {
      case 'pending':
        return;
      case 'active':
      case 'paused':
        incoming.reoffered(message.round);
        return;
      case 'done': {
        const have = incoming
          .info()
          .files.filter((f) => f.state === 'verified')
          .map((f) => f.fileId);
        link.control({ t: 'accept', offerId: message.offerId, round: message.round, files: [], have });
        return;
      }
      case 'declined':
        link.control({
          t: 'decline',
          offerId: message.offerId,
          code: 'declined',
          message: incoming.record.error?.message ?? 'declined',
        });
        return;
      default:
        link.control({ t: 'cancel', offerId: message.offerId, message: incoming.record.error?.message ?? 'cancelled' });
    }
  }

  private async decideNew(link: TransferLink, message: ControlOf<'offer'>): Promise<void> {
    const contactId = link.contactId;
    const refuse = (code: string, text: string) => {
      link.control({ t: 'decline', offerId: message.offerId, code, message: text });
      this.emit('error', { contactId, offerId: message.offerId, code, message: text });
    };
    const problem = offerPathsProblem(message.files.map((f) => f.relativePath));
    if (problem) return refuse(TransferErrorCode.BadName, problem);
    const listed = message.files.reduce((sum, f) => sum + f.size, 0);
    if (listed > message.total) return refuse(TransferErrorCode.Protocol, 'offer sizes exceed its total');
    // Count and reserve in one synchronous step: offers arriving together (120 in one relay record)
    // all pass a check made before the await below if the slot is only taken after it.
    const reserved = this.reserved.get(contactId) ?? 0;
    const waiting =
      [...this.transfers.values()].filter(
        (t) => t instanceof Incoming && t.contactId === contactId && t.state === 'pending',
      ).length + reserved;
    if (waiting >= (this.options.maxPendingPerContact ?? 32))
      return refuse('busy', 'too many offers waiting for a decision');
    this.reserved.set(contactId, reserved + 1);
    let known: boolean;
    try {
      known = (await this.options.isKnownContact?.(contactId)) ?? false;
    } finally {
      const left = (this.reserved.get(contactId) ?? 1) - 1;
      if (left > 0) this.reserved.set(contactId, left);
      else this.reserved.delete(contactId);
    }
    if (!known) {
      link.control({
        t: 'decline',
        offerId: message.offerId,
        code: 'unknown-contact',
        message: 'offers from unknown contacts are declined',
      });
      return;
    }
    const record: OfferRecord = {
      v: 1,
      direction: 'in',
      offerId: message.offerId,
      contactId,
      createdAt: this.ctx.now(),
      state: 'pending',
      round: message.round,
      total: message.total,
      files: message.files.map((f) => ({ ...f })),
    };
    const incoming = new Incoming(this.ctx, record);
    incoming.offered(message);
    this.transfers.set(record.offerId, incoming);
    const decision = (await this.options.decide?.(incoming.info())) ?? 'ask';
    await this.store.saveOffer(record);
    if (decision === 'decline') {
      incoming.decline('declined');
      this.capDeclined(contactId);
    } else if (decision === 'accept') incoming.accept();
    else this.emit('offer', incoming.info());
  }
}

function offerFile(file: OutgoingFile, fileId: number): OfferFile {
  const mime = file.mime && /^[\x20-\x7e]{1,200}$/.test(file.mime) ? file.mime : MIME_DEFAULT;
  return {
    fileId,
    relativePath: file.relativePath,
    size: file.size,
    mime,
    ...(file.mtime !== undefined && Number.isSafeInteger(Math.round(file.mtime)) && file.mtime >= 0
      ? { mtime: Math.round(file.mtime) }
      : {}),
  };
}

/** Groups files into offers that fit one control frame and the per-offer file limit. */
function packOffers(files: readonly OutgoingFile[]): OutgoingFile[][] {
  const budget = MAX_CONTROL_BYTES - 1024;
  const groups: OutgoingFile[][] = [];
  let group: OutgoingFile[] = [];
  let bytes = 0;
  for (const file of files) {
    // Generous upper bound of the file's JSON: fixed fields plus the path at ≤ 3 UTF-8 bytes per code unit.
    const cost = 160 + file.relativePath.length * 4 + (file.mime?.length ?? 0);
    if (group.length && (group.length >= MAX_FILES_PER_OFFER || bytes + cost > budget)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(file);
    bytes += cost;
  }
  if (group.length) groups.push(group);
  return groups;
}
