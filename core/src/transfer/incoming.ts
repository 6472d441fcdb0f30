// One offer we receive. Everything the peer sends for it goes through one queue, handled strictly in
// order by one worker: chunks are hashed and appended to the file's partial, acks open the sender's
// window once bytes are written (so memory stays bounded by that window however slow the disk), and
// checkpoints (fsync, then hash midstate + offset persisted) let a restart continue without re-reading
// the partial. A file becomes its final name only after its SHA-256 matched the sender's.
// Helpers: resume-point.ts (where a file continues), open-file.ts (the partial being written),
// verify.ts (digest check, then commit or discard).
import { releaseLease } from '../session/buffer-lease.js';
import { asTransferError, TransferErrorCode } from './errors.js';
import { FILE_DIGEST_SCHEME, FileDigest, MAX_DIGEST_BACKLOG, decodeHashState, encodeHashState } from './hash.js';
import {
  MAX_LANE_HINTS,
  MAX_TRANSFER_FRAME_BYTES,
  MAX_WINDOW_BYTES,
  type AcceptFile,
  type ChunkFrame,
  type ControlOf,
} from './protocol.js';
import { OfferBase, type FileEntry } from './offer-base.js';
import {
  closePartial,
  openPartial,
  partialKey,
  sinkOp,
  trimToExpected,
  writePieces,
  type OpenFile,
} from './open-file.js';
import {
  acceptOf,
  rangeHashOf,
  restorePosition,
  START,
  type HashPoint,
  type Position,
  type Unconfirmed,
} from './resume-point.js';
import type { TransferContext } from './context.js';
import type { SinkFile } from './io.js';
import type { FileRecord, OfferRecord } from './store.js';
import type { TransferErrorInfo } from './types.js';
import { commitVerified, digestMatches, discardUnverified } from './verify.js';
import { deriveLaneKey, newBulkShare } from './bulk-key.js';
import { fromBase64url, toBase64url } from '../../../signaling/protocol/index.js';

/** Most bytes queued for the worker: two senders' windows (old and new round) plus slack. Beyond it the peer is misbehaving. */
const MAX_QUEUED_BYTES = 2 * MAX_WINDOW_BYTES + 4 * MAX_TRANSFER_FRAME_BYTES;
/** Most bytes written with one sink call. */
const MAX_RUN_BYTES = 1024 * 1024;

type Op =
  | { kind: 'chunk'; chunk: ChunkFrame }
  | { kind: 'end'; message: ControlOf<'end'> }
  | { kind: 'accept'; round: number }
  | { kind: 'fatal'; message: ControlOf<'error'> }
  | { kind: 'cancel'; fileId: number | undefined; error: TransferErrorInfo; notify: boolean }
  | { kind: 'checkpoint' }
  | { kind: 'lane'; message: ControlOf<'lane'> }
  | { kind: 'lane-done'; fileId: number };

export class IncomingError extends Error {}

export class Incoming extends OfferBase {
  /** The round of the latest offer seen; accepts answer it. */
  latestRound = 0;
  /** Ack at least this often: our own setting, or less if the sender's window is small. */
  private ackEvery: number;
  /**
   * True once we answered an offer round in this process. Before that (fresh start from storage), chunks
   * are frames the sender's session re-sent after our restart: used if they continue what the partial
   * holds (provisionally, see Unconfirmed), else dropped with a request to re-offer.
   */
  private synced = false;
  /** The sender's offer said it can move files on bulk lanes. */
  private peerBulk = false;
  /** Round we last asked the sender to re-offer in (once per round). */
  private hintedRound = -1;
  private readonly queue: Op[] = [];
  private queuedBytes = 0;
  private working = false;
  private current: OpenFile | null = null;
  private readonly checkpoints = new Map<number, HashPoint>();
  private readonly touched = new Set<number>();
  private readonly positions = new Map<number, Position>();
  private idleWaiters: Array<() => void> = [];

  constructor(ctx: TransferContext, record: OfferRecord, stored?: Map<number, FileRecord>) {
    super(ctx, record, stored);
    this.ackEvery = ctx.options.ackBytes;
    for (const [fileId, file] of stored ?? []) {
      this.touched.add(fileId);
      // A state from another digest scheme cannot be continued: that file's partial is checked again.
      if (file.hash?.scheme === FILE_DIGEST_SCHEME && file.state === 'pending') {
        try {
          this.checkpoints.set(fileId, { offset: file.hash.offset, state: decodeHashState(file.hash.state) });
        } catch {
          // Corrupt state: that file restarts from zero.
        }
      }
    }
  }

  /** Same files (ids, paths, sizes) as the stored offer: a re-offer may not change what we agreed to. */
  matches(message: ControlOf<'offer'>): boolean {
    if (message.total !== this.record.total) return false;
    return message.files.every((f) => {
      const known = this.files.get(f.fileId);
      return known !== undefined && known.meta.relativePath === f.relativePath && known.meta.size === f.size;
    });
  }

  /** The user (or the policy) accepted: answer the latest round. */
  accept(): void {
    if (this.final) return;
    this.setState('active');
    this.enqueue({ kind: 'accept', round: this.latestRound });
  }

  /** Notes what an offer message tells us: its round and the sender's window. */
  offered(message: { round: number; window?: number | undefined; bulk?: 1 | undefined }): void {
    this.latestRound = Math.max(this.latestRound, message.round);
    this.peerBulk = message.bulk === 1;
    this.ackEvery = Math.max(1, Math.min(this.ctx.options.ackBytes, Math.floor((message.window ?? Infinity) / 4)));
  }

  /** A (re-)offer for an offer we already said yes to. */
  reoffered(round: number): void {
    this.latestRound = Math.max(this.latestRound, round);
    if (this.record.state === 'active' || this.record.state === 'paused') {
      if (this.record.state === 'paused') this.setState('active');
      this.enqueue({ kind: 'accept', round });
    }
  }

  /** Our user wants to continue a paused offer (e.g. after freeing disk space). */
  resume(): void {
    if (this.record.state !== 'paused') return;
    this.setState('active');
    this.ctx.link(this.contactId)?.control({ t: 'resume', offerId: this.offerId, round: this.latestRound });
  }

  /** Asks the sender to re-offer (once per round) when frames arrive that no accept of ours can place. */
  private hint(): void {
    if (this.hintedRound === this.latestRound) return;
    this.hintedRound = this.latestRound;
    this.ctx.link(this.contactId)?.control({ t: 'resume', offerId: this.offerId, round: this.latestRound });
  }

  /**
   * Takes the chunk's bytes: they are released (session/buffer-lease.ts: received memory may be reused) once
   * written and hashed, or when the chunk is dropped.
   */
  onChunk(chunk: ChunkFrame): void {
    if (this.record.state !== 'active') {
      releaseLease(chunk.data);
      return;
    }
    this.ctx.stats.chunkBytesReceived += chunk.data.length;
    if (this.queuedBytes + chunk.data.length > MAX_QUEUED_BYTES) {
      releaseLease(chunk.data);
      this.enqueue(
        {
          kind: 'cancel',
          fileId: undefined,
          error: { code: TransferErrorCode.Protocol, message: 'the sender ignored flow control' },
          notify: true,
        },
        true,
      );
      return;
    }
    this.queuedBytes += chunk.data.length;
    if (this.queuedBytes > this.ctx.stats.maxQueuedBytes) this.ctx.stats.maxQueuedBytes = this.queuedBytes;
    this.enqueue({ kind: 'chunk', chunk });
  }

  /** The sender would send a file on a bulk lane. */
  onLane(message: ControlOf<'lane'>): void {
    if (this.record.state !== 'active') return;
    this.enqueue({ kind: 'lane', message });
  }

  onEnd(message: ControlOf<'end'>): void {
    if (this.record.state !== 'active' && this.record.state !== 'done') return;
    this.enqueue({ kind: 'end', message });
  }

  /** The sender cannot read a file (fatal) — it failed; anything else pauses nothing on our side. */
  onError(message: ControlOf<'error'>): void {
    if (this.final) return;
    if (message.fatal && message.fileId !== undefined) this.enqueue({ kind: 'fatal', message });
    this.ctx.emit('error', {
      contactId: this.contactId,
      offerId: this.offerId,
      ...(message.fileId !== undefined ? { fileId: message.fileId } : {}),
      code: message.code,
      message: message.message,
    });
  }

  /** Cancel from the peer (notify=false) or from our user (notify=true). */
  cancel(fileId: number | undefined, error: TransferErrorInfo, notify: boolean): void {
    if (this.final) return;
    this.enqueue({ kind: 'cancel', fileId, error, notify }, fileId === undefined);
  }

  decline(message: string): void {
    if (this.record.state !== 'pending') return;
    this.ctx.link(this.contactId)?.control({ t: 'decline', offerId: this.offerId, code: 'declined', message });
    this.setState('declined', { code: TransferErrorCode.Declined, message });
  }

  /** The link went away: make what we have durable now (cheap insurance before a possible restart). */
  detach(): void {
    if (this.current) this.enqueue({ kind: 'checkpoint' });
  }

  /** Resolves once the queue is empty and the worker is idle (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.working && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Closes the open partial (keeping it) — for shutdown. */
  async close(): Promise<void> {
    await this.idle();
    await this.closeCurrent(true);
  }

  private enqueue(op: Op, urgent = false): void {
    if (urgent) this.dropQueue();
    this.queue.push(op);
    if (!this.working) void this.work();
  }

  private async work(): Promise<void> {
    this.working = true;
    try {
      for (let op = this.queue.shift(); op; op = this.queue.shift()) {
        try {
          if (op.kind === 'chunk') {
            const run = this.takeRun(op.chunk);
            try {
              await this.handleChunks(run);
            } finally {
              // Written and hashed, or dropped: nothing holds these bytes any more.
              for (const chunk of run) releaseLease(chunk.data);
            }
          } else await this.handle(op);
        } catch (error) {
          await this.failed(error);
        }
      }
    } finally {
      this.working = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Empties the queue (its chunks' bytes released). */
  private dropQueue(): void {
    for (const op of this.queue) if (op.kind === 'chunk') releaseLease(op.chunk.data);
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  /**
   * The chunk plus the contiguous chunks of the same file queued right behind it (up to MAX_RUN_BYTES):
   * written with one call, so the queue drains in few syscalls whatever the frame rate.
   */
  private takeRun(first: ChunkFrame): ChunkFrame[] {
    const run = [first];
    this.queuedBytes -= first.data.length;
    let bytes = first.data.length;
    let end = first.offset + first.data.length;
    for (let next = this.queue[0]; next?.kind === 'chunk'; next = this.queue[0]) {
      const chunk = next.chunk;
      if (chunk.fileId !== first.fileId || chunk.offset !== end || bytes + chunk.data.length > MAX_RUN_BYTES) break;
      this.queue.shift();
      this.queuedBytes -= chunk.data.length;
      run.push(chunk);
      bytes += chunk.data.length;
      end += chunk.data.length;
    }
    return run;
  }

  private async handle(op: Exclude<Op, { kind: 'chunk' }>): Promise<void> {
    switch (op.kind) {
      case 'end':
        return this.handleEnd(op.message);
      case 'accept':
        return this.handleAccept(op.round);
      case 'fatal':
        return this.handleFatal(op.message);
      case 'cancel':
        return this.handleCancel(op.fileId, op.error, op.notify);
      case 'checkpoint':
        if (this.current && !this.current.failed) await this.checkpoint(this.current, true);
        return;
      case 'lane':
        return this.handleLane(op.message);
      case 'lane-done':
        if (this.current?.file.meta.fileId === op.fileId) await this.settleLane(this.current);
        return;
    }
  }

  private async handleAccept(round: number): Promise<void> {
    if (round !== this.latestRound || this.record.state !== 'active') return;
    this.synced = true;
    if (this.record.round !== round) {
      this.record.round = round;
      this.persistOffer();
    }
    const files: AcceptFile[] = [];
    const have: number[] = [];
    for (const file of this.files.values()) {
      if (file.state === 'verified') have.push(file.meta.fileId);
      if (file.state !== 'pending') continue;
      files.push(await this.resumePoint(file));
    }
    const bulk = this.peerBulk && this.ctx.bulk !== undefined ? { bulk: 1 as const } : {};
    this.ctx.link(this.contactId)?.control({ t: 'accept', offerId: this.offerId, round, files, have, ...bulk });
    this.rebaseSpeed();
  }

  /** Where `file` should continue (what our accept tells the sender), remembered for its first chunk. */
  private async resumePoint(file: FileEntry): Promise<AcceptFile> {
    const fileId = file.meta.fileId;
    const current = this.current;
    if (current?.file === file && !current.failed) return acceptOf(fileId, current.expected, current.unconfirmed);
    let position: Position = this.positions.get(fileId) ?? { ...START };
    if (!this.positions.has(fileId) && this.touched.has(fileId)) {
      const sink = await openPartial(this.ctx.sink, this.offerId, file);
      try {
        position = await this.restorePosition(file, sink);
      } finally {
        await sink.close().catch(() => {});
      }
    }
    this.positions.set(fileId, position);
    return acceptOf(fileId, position.expected, position.unconfirmed);
  }

  private restorePosition(file: FileEntry, sink: SinkFile): Promise<Position> {
    return restorePosition(
      sink,
      this.checkpoints.get(file.meta.fileId),
      file.meta.size,
      this.ctx.options.maxTailBytes,
      this.ctx.options.blockHash,
    );
  }

  /** Opens `file` as the current file, positioned where the sender will continue. */
  private async ensureOpen(file: FileEntry): Promise<OpenFile> {
    if (this.current?.file === file) return this.current;
    await this.closeCurrent(true);
    const fileId = file.meta.fileId;
    const sink = await openPartial(this.ctx.sink, this.offerId, file);
    let position = this.positions.get(fileId);
    this.positions.delete(fileId);
    if (!position) {
      const saved = this.checkpoints.get(fileId);
      // Before our first accept (just restarted), re-delivered frames may continue the partial's tail.
      if (!this.synced) position = await this.restorePosition(file, sink);
      else position = saved ? { expected: saved.offset, state: saved } : { ...START };
    }
    // Bytes we counted on are gone from the partial: start over (a chunk further on makes us ask from 0).
    if (sink.existingBytes < position.expected) position = { ...START };
    let hash: FileDigest;
    if (position.state instanceof FileDigest) {
      // A digest carried over from an earlier opening of this partial asks this opening from now on.
      hash = position.state;
      hash.useRange(rangeHashOf(sink));
    } else hash = await FileDigest.create(position.state, this.ctx.options.blockHash, rangeHashOf(sink));
    const durable = Math.min(position.expected, this.checkpoints.get(fileId)?.offset ?? 0);
    this.current = {
      file,
      sink,
      hash,
      expected: position.expected,
      length: sink.existingBytes,
      unconfirmed: position.unconfirmed,
      lastAck: position.expected,
      durable,
      lastCheckpoint: position.expected,
      checkpointing: null,
      askedFrom: -1,
      failed: null,
    };
    file.bytesDone = position.expected;
    if (!this.touched.has(fileId)) {
      this.touched.add(fileId);
      // A restart must know a partial exists even before the first checkpoint lands (a slow fsync can
      // take a while), or it would start the file over. Small files are not worth the write: they
      // are re-sent whole, which costs less than one checkpoint interval.
      if (file.meta.size > this.ctx.options.checkpointBytes(file.meta.size)) await this.persistFile(file);
    }
    return this.current;
  }

  /** Handles a run of contiguous chunks of one file (see takeRun). */
  private async handleChunks(run: ChunkFrame[]): Promise<void> {
    if (this.record.state !== 'active') return;
    const first = run[0]!;
    const last = run[run.length - 1]!;
    const file = this.files.get(first.fileId);
    if (!file) throw new IncomingError(`chunk for unknown file ${first.fileId}`);
    if (file.state !== 'pending') return;
    if (last.offset + last.data.length > file.meta.size)
      throw new IncomingError(`chunk past the end of ${file.meta.relativePath}`);
    const open = await this.ensureOpen(file);
    if (open.failed) throw open.failed;
    // Chunks while a lane writes this file: the sender gave the lane up; take its outcome first.
    if (open.lane) await this.settleLane(open);
    const pending = open.unconfirmed;
    if (pending?.checkSent) {
      // The first chunk after our accept is the sender's verdict on the unconfirmed bytes.
      if (first.offset === open.expected) open.unconfirmed = undefined;
      else if (first.offset === pending.from.offset) await this.rollBack(open, pending);
    }
    if (first.offset > open.expected) {
      // A gap. While something is unconfirmed (or before our first accept) only a new round settles it.
      if (open.unconfirmed || !this.synced) this.hint();
      else this.askFrom(open);
      return;
    }
    // The run is contiguous: only its head can overlap what we have.
    const pieces: Uint8Array[] = [];
    let bytes = 0;
    for (const chunk of run) {
      const skip = Math.max(0, open.expected + bytes - chunk.offset);
      if (skip >= chunk.data.length) {
        this.ctx.stats.duplicateBytes += chunk.data.length;
        continue;
      }
      this.ctx.stats.duplicateBytes += skip;
      const data = skip ? chunk.data.subarray(skip) : chunk.data;
      pieces.push(data);
      bytes += data.length;
    }
    if (bytes === 0) return;
    await trimToExpected(open);
    open.expected += bytes;
    await sinkOp(open, () => writePieces(open.sink, pieces));
    open.length = open.expected;
    // Hashed after the write: a sink that hashes what it stores (hashRange) is asked only for stored bytes.
    for (const data of pieces) open.hash.update(data);
    if (open.hash.backlog > MAX_DIGEST_BACKLOG) await open.hash.settled();
    file.bytesDone = open.expected;
    if (open.expected - open.lastAck >= this.ackEvery) this.ack(open);
    if (
      open.expected - open.lastCheckpoint >= this.ctx.options.checkpointBytes(file.meta.size) &&
      !open.checkpointing
    ) {
      void this.checkpoint(open, false);
    }
    this.progress(file);
  }

  /**
   * The sender offers a lane for a file: where we can (a platform, the peer said bulk, this round, nothing
   * unconfirmed), listen for it and answer with our share, where we listen and from which offset; else
   * answer without a share (the sender then streams the file as always).
   */
  private async handleLane(message: ControlOf<'lane'>): Promise<void> {
    const file = this.files.get(message.fileId);
    const link = this.ctx.link(this.contactId);
    if (!file || file.state !== 'pending' || !link) return;
    if (!message.share) {
      // The sender gave the lane up (it could not reach us): stop waiting for it; its end asks for the rest.
      if (this.current?.file === file) this.current.lane?.cancel();
      return;
    }
    const refuse = (why: string) => {
      this.ctx.logger.info({ offerId: this.offerId, why }, 'transfer: lane refused, the stream carries the file');
      link.control({ t: 'lane', offerId: this.offerId, fileId: file.meta.fileId, round: message.round });
    };
    const bulk = this.ctx.bulk;
    if (!bulk || !this.peerBulk) return refuse('no lanes here');
    if (!this.synced || message.round !== this.latestRound) return refuse('another round');
    const open = await this.ensureOpen(file);
    if (open.failed) throw open.failed;
    if (open.unconfirmed) return refuse('unconfirmed bytes');
    if (open.lane) return refuse('a lane is open');
    await trimToExpected(open);
    if (open.checkpointing) await open.checkpointing;
    // Whatever the sink still buffers lands before the lane appends (the desktop's sink gathers writes).
    await sinkOp(open, () => open.sink.flush());
    const share = newBulkShare();
    let receiving;
    try {
      const key = await deriveLaneKey({
        sessionId: '',
        offerId: this.offerId,
        fileId: file.meta.fileId,
        senderShare: fromBase64url(message.share),
        receiverShare: share,
      });
      receiving = await bulk.receive({
        key,
        sink: open.sink,
        size: file.meta.size,
        from: open.expected,
        digestFrom: await open.hash.boundary(),
        onWritten: (offset) => {
          if (file.state !== 'pending') return;
          file.bytesDone = offset;
          this.progress(file);
        },
        // The lane's flushed points, recorded as the stream's checkpoints are: a restart continues there.
        checkpointBytes: this.ctx.options.checkpointBytes(file.meta.size),
        onCheckpoint: (point) => {
          if (file.state !== 'pending' || point.offset === 0) return;
          const hash = { offset: point.offset, state: encodeHashState(point.state), scheme: FILE_DIGEST_SCHEME };
          this.persistFile(file, hash).then(
            () => {
              if (file.state === 'pending') this.checkpoints.set(file.meta.fileId, point);
            },
            (error: unknown) => this.persistFailed(error),
          );
        },
      });
    } catch (error) {
      return refuse(String(error));
    }
    const from = open.expected;
    open.lane = { done: receiving.done, cancel: receiving.cancel };
    void receiving.done.then(() => this.enqueue({ kind: 'lane-done', fileId: file.meta.fileId }));
    link.control({
      t: 'lane',
      offerId: this.offerId,
      fileId: file.meta.fileId,
      round: message.round,
      share: toBase64url(share),
      hints: receiving.hints.slice(0, MAX_LANE_HINTS),
      offset: from,
    });
  }

  /**
   * Takes a lane's outcome (waiting for it): every byte → the file is complete with the lane's digest; ended
   * early → the stream goes on from the digest's last block boundary (the partial is cut back there before
   * the next write), and we ask the sender for it.
   */
  private async settleLane(open: OpenFile): Promise<void> {
    const lane = open.lane;
    if (!lane) return;
    const result = await lane.done;
    if (open.lane !== lane) return;
    open.lane = null;
    const size = open.file.meta.size;
    this.ctx.stats.laneBytesReceived += Math.max(0, result.written - open.expected);
    if (result.sha256 !== null && result.written === size) {
      open.expected = size;
      open.length = size;
      open.laneDigest = result.sha256;
      open.lastAck = size;
      open.file.bytesDone = size;
      return;
    }
    open.hash = await FileDigest.create(result.boundary, this.ctx.options.blockHash, rangeHashOf(open.sink));
    open.length = result.written;
    open.expected = result.boundary.offset;
    open.lastAck = open.expected;
    open.lastCheckpoint = open.expected;
    open.file.bytesDone = open.expected;
    open.askedFrom = -1;
    this.askFrom(open);
  }

  /** The sender's bytes differ from what we kept: back to the last checkpoint (the next write truncates). */
  private async rollBack(open: OpenFile, pending: Unconfirmed): Promise<void> {
    open.hash = await FileDigest.create(pending.from, this.ctx.options.blockHash, rangeHashOf(open.sink));
    open.expected = pending.from.offset;
    open.unconfirmed = undefined;
    open.file.bytesDone = open.expected;
    // Acks and checkpoints count from here again (the sender's window restarted here too).
    open.lastAck = open.expected;
    open.lastCheckpoint = open.expected;
  }

  private askFrom(open: OpenFile): void {
    if (open.askedFrom === open.expected) return;
    open.askedFrom = open.expected;
    this.ctx.stats.resumeRequests += 1;
    this.ctx
      .link(this.contactId)
      ?.control({ t: 'resume', offerId: this.offerId, fileId: open.file.meta.fileId, offset: open.expected });
  }

  private ack(open: OpenFile): void {
    open.lastAck = open.expected;
    this.ctx.link(this.contactId)?.control({
      t: 'ack',
      offerId: this.offerId,
      fileId: open.file.meta.fileId,
      offset: open.expected,
      durable: Math.min(open.durable, open.expected),
    });
  }

  /**
   * Flushes the partial, then records (offset, hash state) as the point a restart continues from.
   * Runs beside the next writes unless `wait`; only one at a time.
   */
  private async checkpoint(open: OpenFile, wait: boolean): Promise<void> {
    // A hash state that covers unconfirmed bytes must never become the point a restart trusts; while a
    // lane writes, the digest here is not where the partial is.
    if (open.unconfirmed || open.lane) return;
    if (open.checkpointing) {
      await open.checkpointing;
      if (!wait) return;
    }
    // The digest's state exists at block boundaries: the point is the last one written; the bytes
    // after it are checked again after a restart (see restorePosition), so none is lost.
    const boundary = open.hash.boundary();
    open.lastCheckpoint = open.expected;
    const run = (async () => {
      let point: HashPoint;
      try {
        await open.sink.flush();
        point = await boundary;
      } catch (error) {
        open.failed = asTransferError(
          error,
          TransferErrorCode.WriteFailed,
          `cannot write ${open.file.meta.relativePath}`,
        );
        return;
      }
      if (point.offset === 0) return;
      try {
        await this.persistFile(open.file, {
          offset: point.offset,
          state: encodeHashState(point.state),
          scheme: FILE_DIGEST_SCHEME,
        });
      } catch (error) {
        this.persistFailed(error);
        return;
      }
      this.checkpoints.set(open.file.meta.fileId, point);
      open.durable = Math.max(open.durable, point.offset);
    })();
    open.checkpointing = run;
    try {
      await run;
    } finally {
      if (open.checkpointing === run) open.checkpointing = null;
    }
  }

  private async closeCurrent(checkpoint: boolean): Promise<void> {
    const open = this.current;
    if (!open) return;
    this.current = null;
    if (!open.failed)
      this.positions.set(open.file.meta.fileId, {
        expected: open.expected,
        state: open.hash,
        unconfirmed: open.unconfirmed,
      });
    if (open.checkpointing) await open.checkpointing;
    if (checkpoint && !open.failed && open.expected > open.lastCheckpoint) await this.checkpoint(open, true);
    await closePartial(open);
  }

  private async handleEnd(message: ControlOf<'end'>): Promise<void> {
    const file = this.files.get(message.fileId);
    if (!file) throw new IncomingError(`end for unknown file ${message.fileId}`);
    if (file.state === 'verified') {
      // The sender missed our result (link dropped): say it again.
      this.ctx
        .link(this.contactId)
        ?.control({ t: 'result', offerId: this.offerId, fileId: file.meta.fileId, ok: true });
      return;
    }
    if (file.state !== 'pending' || this.record.state !== 'active') return;
    if (!this.synced) return this.hint();
    if (message.size !== file.meta.size) throw new IncomingError(`end of ${file.meta.relativePath} names another size`);
    const open = await this.ensureOpen(file);
    if (open.failed) throw open.failed;
    if (open.lane) await this.settleLane(open);
    // No chunk came after our check and the sender ends where we are: it agreed with our bytes.
    if (open.unconfirmed?.checkSent && open.expected === file.meta.size) open.unconfirmed = undefined;
    if (open.expected !== file.meta.size || open.unconfirmed) {
      if (open.unconfirmed) this.hint();
      else this.askFrom(open);
      return;
    }
    await trimToExpected(open);
    if (open.checkpointing) await open.checkpointing;
    if (open.failed) throw open.failed;
    await sinkOp(open, () => open.sink.flush());
    this.ack(open);
    const matches = await digestMatches(open, message.sha256);
    this.current = null;
    const fileId = file.meta.fileId;
    if (matches) {
      let savedAs: string;
      try {
        savedAs = await commitVerified(open);
      } catch (error) {
        this.current = open;
        throw error;
      }
      file.savedAs = savedAs;
      this.checkpoints.delete(fileId);
      this.finishFile(file, 'verified');
      this.ctx.link(this.contactId)?.control({ t: 'result', offerId: this.offerId, fileId, ok: true });
    } else {
      // Proven wrong: the partial goes, and the file is not called complete.
      await discardUnverified(open, this.ctx.sink, this.offerId);
      this.checkpoints.delete(fileId);
      const error = {
        code: TransferErrorCode.VerifyFailed,
        message: `${file.meta.relativePath} did not verify (SHA-256 mismatch)`,
      };
      this.finishFile(file, 'failed', error);
      this.ctx.link(this.contactId)?.control({ t: 'result', offerId: this.offerId, fileId, ok: false, ...error });
      this.ctx.emit('error', { contactId: this.contactId, offerId: this.offerId, fileId, ...error });
    }
    this.checkDone();
  }

  private async handleFatal(message: ControlOf<'error'>): Promise<void> {
    const file = message.fileId === undefined ? undefined : this.files.get(message.fileId);
    if (!file || file.state !== 'pending') return;
    await this.dropFile(file);
    this.finishFile(file, 'failed', { code: message.code, message: message.message });
    this.checkDone();
  }

  private async handleCancel(fileId: number | undefined, error: TransferErrorInfo, notify: boolean): Promise<void> {
    if (this.final) return;
    if (notify)
      this.ctx.link(this.contactId)?.control({
        t: 'cancel',
        offerId: this.offerId,
        ...(fileId !== undefined ? { fileId } : {}),
        message: error.message,
      });
    const files =
      fileId === undefined ? [...this.files.values()] : [this.files.get(fileId)].filter((f): f is FileEntry => !!f);
    for (const file of files) {
      if (file.state !== 'pending') continue;
      await this.dropFile(file);
      this.finishFile(file, 'cancelled', error);
    }
    if (fileId === undefined) this.setState('cancelled', error);
    else this.checkDone();
  }

  /** Closes and deletes a file's partial (cancelled, or the sender can never finish it). */
  private async dropFile(file: FileEntry): Promise<void> {
    if (this.current?.file === file) {
      const open = this.current;
      this.current = null;
      await closePartial(open);
    }
    this.checkpoints.delete(file.meta.fileId);
    this.positions.delete(file.meta.fileId);
    if (this.touched.has(file.meta.fileId))
      await this.ctx.sink.discard(file.meta.relativePath, partialKey(this.offerId, file)).catch(() => {});
  }

  /** An op threw: a write error pauses the offer (partial kept); a protocol error cancels it. */
  private async failed(error: unknown): Promise<void> {
    if (error instanceof IncomingError) {
      const info = { code: TransferErrorCode.Protocol, message: error.message };
      this.ctx.logger.warn({ offerId: this.offerId, message: error.message }, 'transfer: protocol error from sender');
      this.ctx.emit('error', { contactId: this.contactId, offerId: this.offerId, ...info });
      await this.handleCancel(undefined, info, true);
      return;
    }
    const failure = asTransferError(error, TransferErrorCode.WriteFailed, 'cannot write');
    const open = this.current;
    const fileId = open?.file.meta.fileId;
    this.current = null;
    if (open) await closePartial(open);
    this.dropQueue();
    // After a failed write only the partial on disk knows where the file is: chunks still in flight,
    // and the next accept, restore the position from it (its bytes past the checkpoint kept, checked).
    this.synced = false;
    const info = { code: failure.code, message: failure.message };
    this.ctx.link(this.contactId)?.control({
      t: 'error',
      offerId: this.offerId,
      ...(fileId !== undefined ? { fileId } : {}),
      ...info,
      fatal: false,
    });
    this.setState('paused', info);
    this.ctx.emit('error', {
      contactId: this.contactId,
      offerId: this.offerId,
      ...(fileId !== undefined ? { fileId } : {}),
      ...info,
    });
  }
}
