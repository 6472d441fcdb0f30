// One offer we send. Each (re-)offer opens a "round"; the receiver's accept for that round says where
// each file continues. A round streams files one after another through the link, reading ahead one
// chunk, hashing as it goes, and sending only while its window (bytes not yet written by the receiver)
// has room. Acks open the window; there are no timers and no per-chunk round trips.
import { asTransferError, TransferError, TransferErrorCode } from './errors.js';
import { FILE_DIGEST_SCHEME, HashTrail, MAX_DIGEST_BACKLOG, Sha256, decodeHashState, encodeHashState } from './hash.js';
import type { SourceFile } from './io.js';
import {
  allocChunkFrame,
  writeChunkHeader,
  CHUNK_HEADER_BYTES,
  offerIdBytes,
  TRANSFER_PROTOCOL_VERSION,
  type AcceptFile,
  type ControlOf,
} from './protocol.js';
import { OfferBase, type FileEntry } from './offer-base.js';
import type { TransferContext } from './context.js';
import type { FileRecord, OfferRecord } from './store.js';
import type { TransferErrorInfo } from './types.js';
import { deriveLaneKey, newBulkShare } from './bulk-key.js';
import { fromBase64url, toBase64url } from '../../../signaling/protocol/index.js';

interface Job {
  fileId: number;
  start: number;
  /** The receiver's unconfirmed range: if our bytes there hash differently, start from `check.from` instead. */
  check?: { from: number; length: number; sha256: string } | undefined;
  /** Set by a resume request while this job runs: continue from here instead. */
  restartAt?: number;
}

/** Per-file window accounting within a round. */
interface Flight {
  sentTo: number;
  ackedTo: number;
}

/** How long the sender waits for the receiver's lane answer, and for its resume request after a lane ended. */
export const LANE_ANSWER_MS = 5000;

class Round {
  aborted = false;
  running = false;
  /** Both sides can move files on bulk lanes (the accept said so and we have a platform). */
  bulk = false;
  /** Receivers' lane answers awaited, by file. */
  readonly laneAnswers = new Map<number, (answer: ControlOf<'lane'> | null) => void>();
  /** Aborted with the round: a lane being sent. */
  readonly lanes = new AbortController();
  readonly queue: Job[] = [];
  current: Job | null = null;
  readonly flights = new Map<number, Flight>();
  inflight = 0;
  private waiter: (() => void) | null = null;

  constructor(readonly number: number) {}

  abort(): void {
    this.aborted = true;
    this.lanes.abort();
    for (const answer of this.laneAnswers.values()) answer(null);
    this.wake();
  }

  /** Resolves at the next wake() (an ack, a resume request, a settled file) or abort. */
  nudge(): Promise<void> {
    if (this.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Resolves when fewer than `limit` bytes are in flight, or the round ends. */
  room(limit: number): Promise<void> | undefined {
    if (this.inflight < limit || this.aborted) return undefined;
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  sent(fileId: number, to: number): void {
    const flight = this.flights.get(fileId);
    if (!flight) return;
    this.inflight += Math.max(0, to - flight.sentTo);
    flight.sentTo = Math.max(flight.sentTo, to);
  }

  acked(fileId: number, offset: number): void {
    const flight = this.flights.get(fileId);
    if (!flight) return;
    const to = Math.min(Math.max(offset, flight.ackedTo), flight.sentTo);
    this.inflight -= to - flight.ackedTo;
    flight.ackedTo = to;
  }

  /** Starts (or restarts) accounting for a file at `start`. */
  begin(fileId: number, start: number): void {
    this.settle(fileId);
    this.flights.set(fileId, { sentTo: start, ackedTo: start });
    this.wake();
  }

  /** Drops a file from accounting (final, or rewinding). */
  settle(fileId: number): void {
    const flight = this.flights.get(fileId);
    if (!flight) return;
    this.inflight -= flight.sentTo - flight.ackedTo;
    this.flights.delete(fileId);
    this.wake();
  }
}

/** How often (in durable bytes) the sender persists a hash midstate, bounding re-reading after its own restart. */
const PERSIST_HASH_EVERY = 8 * 1024 * 1024;
/** How often a lane's sender platform hands its digest state back (then at most this is hashed again). */
const LANE_DIGEST_EVERY = 4 * 1024 * 1024;

export class Outgoing extends OfferBase {
  private round: Round | null = null;
  private readonly trails = new Map<number, HashTrail>();
  private readonly persistedHash = new Map<number, { offset: number; state: string }>();
  private readonly idBytes: Uint8Array;

  constructor(ctx: TransferContext, record: OfferRecord, stored?: Map<number, FileRecord>) {
    super(ctx, record, stored);
    this.idBytes = offerIdBytes(record.offerId);
    for (const [fileId, file] of stored ?? []) {
      // A state from another digest scheme cannot be continued: that file is hashed from the start.
      if (file.hash?.scheme === FILE_DIGEST_SCHEME && file.state === 'pending')
        this.persistedHash.set(fileId, file.hash);
    }
  }

  /** Sends a new round of the offer with every unfinished file. Called on creation and on each (re)attach. */
  offer(): void {
    if (this.final) return;
    const link = this.ctx.link(this.contactId);
    this.round?.abort();
    this.round = null;
    if (!link) return;
    this.record.round += 1;
    if (this.record.state !== 'offered' && this.record.state !== 'active') this.setState('active');
    else this.persistOffer();
    const files = [...this.files.values()].filter((f) => f.state === 'pending').map((f) => stripSource(f.meta));
    link.control({
      t: 'offer',
      v: TRANSFER_PROTOCOL_VERSION,
      offerId: this.offerId,
      round: this.record.round,
      files,
      total: this.record.total,
      window: Math.min(this.ctx.options.windowBytes, this.ctx.options.relayWindowBytes),
      ...(this.ctx.bulk ? { bulk: 1 as const } : {}),
    });
  }

  /** The link went away: stop streaming; the next attach re-offers. */
  detach(): void {
    this.round?.abort();
    this.round = null;
  }

  onAccept(message: ControlOf<'accept'>): void {
    if (this.final || message.round !== this.record.round || this.round) return;
    for (const fileId of message.have) {
      const file = this.files.get(fileId);
      if (file) this.finishFile(file, 'verified');
    }
    const round = new Round(message.round);
    round.bulk = message.bulk === 1 && this.ctx.bulk !== undefined;
    const wanted = new Set<number>();
    for (const accepted of [...message.files].sort((a, b) => a.fileId - b.fileId)) {
      const file = this.files.get(accepted.fileId);
      if (!file || file.state !== 'pending' || wanted.has(accepted.fileId)) continue;
      if (!validStart(accepted, file.meta.size)) {
        this.protocolError(`accept for ${file.meta.relativePath} has an offset outside the file`);
        return;
      }
      wanted.add(accepted.fileId);
      round.queue.push({ fileId: accepted.fileId, start: accepted.offset, check: accepted.check });
    }
    for (const file of this.files.values()) {
      if (file.state === 'pending' && !wanted.has(file.meta.fileId)) {
        this.finishFile(file, 'cancelled', {
          code: TransferErrorCode.Cancelled,
          message: 'the receiver did not take this file',
        });
      }
    }
    this.round = round;
    this.setState('active');
    this.checkDone();
    if (!this.final) this.run(round);
  }

  onDecline(message: ControlOf<'decline'>): void {
    if (this.final) return;
    this.stop();
    this.trails.clear();
    for (const file of this.files.values()) if (file.state === 'pending') file.state = 'cancelled';
    this.setState('declined', {
      code: TransferErrorCode.Declined,
      message: message.message || 'the receiver declined',
    });
  }

  onAck(message: ControlOf<'ack'>): void {
    const file = this.files.get(message.fileId);
    if (!file || file.state !== 'pending') return;
    if (message.offset > file.meta.size || message.durable > message.offset) return;
    file.bytesDone = Math.max(file.bytesDone, message.offset);
    this.round?.acked(message.fileId, message.offset);
    this.round?.wake();
    const trail = this.trails.get(message.fileId);
    if (trail) {
      this.rememberDurable(file, trail, message.durable);
      trail.forgetBefore(message.durable);
    }
    this.progress(file);
  }

  onResult(message: ControlOf<'result'>): void {
    const file = this.files.get(message.fileId);
    if (!file || file.state !== 'pending') return;
    this.round?.settle(message.fileId);
    this.trails.delete(message.fileId);
    if (message.ok) this.finishFile(file, 'verified');
    else {
      this.finishFile(file, 'failed', {
        code: message.code ?? TransferErrorCode.VerifyFailed,
        message: message.message ?? 'the receiver could not verify the file',
      });
    }
    this.checkDone();
  }

  onResume(message: ControlOf<'resume'>): void {
    if (this.final) return;
    if (message.fileId === undefined || message.offset === undefined) {
      // A receiver that has not seen our latest re-offer yet will answer that one: no need for another.
      if (message.round !== undefined && message.round < this.record.round) return;
      this.offer();
      return;
    }
    const file = this.files.get(message.fileId);
    const round = this.round;
    if (!file || file.state !== 'pending' || !round || message.offset > file.meta.size) return;
    this.ctx.stats.resumeRequests += 1;
    // Bytes sent past the gap will never be acked: stop counting them (this also wakes a sender
    // waiting for window room, which would otherwise wait forever).
    round.begin(message.fileId, message.offset);
    if (round.current?.fileId === message.fileId) {
      round.current.restartAt = message.offset;
      return;
    }
    round.queue.unshift({ fileId: message.fileId, start: message.offset });
    if (!round.running) this.run(round);
  }

  /** The receiver's answer to our lane message for a file. */
  onLane(message: ControlOf<'lane'>): void {
    if (message.round !== this.record.round) return;
    this.round?.laneAnswers.get(message.fileId)?.(message);
  }

  /** The receiver cancelled the offer or a file. */
  onCancel(message: ControlOf<'cancel'>): void {
    const error = { code: TransferErrorCode.Cancelled, message: message.message || 'cancelled by the receiver' };
    this.cancelLocally(message.fileId, error);
  }

  /** The receiver hit an error: fatal → that file failed; otherwise pause until it asks to resume. */
  onError(message: ControlOf<'error'>): void {
    if (this.final) return;
    const error = { code: message.code, message: message.message };
    if (message.fatal && message.fileId !== undefined) {
      const file = this.files.get(message.fileId);
      if (!file) return;
      this.round?.settle(message.fileId);
      if (this.round?.current?.fileId === message.fileId) this.round.current.restartAt = -1;
      this.finishFile(file, 'failed', error);
      this.checkDone();
      return;
    }
    this.stop();
    this.setState('paused', error);
    this.ctx.emit('error', {
      contactId: this.contactId,
      offerId: this.offerId,
      ...(message.fileId !== undefined ? { fileId: message.fileId } : {}),
      ...error,
    });
  }

  /** Our user cancels the offer (no fileId) or one file. */
  cancel(fileId?: number): void {
    if (this.final) return;
    this.ctx.link(this.contactId)?.control({
      t: 'cancel',
      offerId: this.offerId,
      ...(fileId !== undefined ? { fileId } : {}),
      message: 'cancelled by the sender',
    });
    this.cancelLocally(fileId, { code: TransferErrorCode.Cancelled, message: 'cancelled' });
  }

  private cancelLocally(fileId: number | undefined, error: TransferErrorInfo): void {
    if (this.final) return;
    if (fileId === undefined) {
      this.stop();
      this.trails.clear();
      for (const file of this.files.values()) this.finishFile(file, 'cancelled', error);
      this.setState('cancelled', error);
      return;
    }
    const file = this.files.get(fileId);
    if (!file) return;
    this.round?.settle(fileId);
    if (this.round?.current?.fileId === fileId) this.round.current.restartAt = -1;
    this.trails.delete(fileId);
    this.finishFile(file, 'cancelled', error);
    this.checkDone();
  }

  private stop(): void {
    this.round?.abort();
    this.round = null;
  }

  private protocolError(message: string): void {
    this.ctx.logger.warn({ offerId: this.offerId, message }, 'transfer: protocol error from receiver');
    this.ctx
      .link(this.contactId)
      ?.control({ t: 'cancel', offerId: this.offerId, message: `protocol error: ${message}` });
    this.cancelLocally(undefined, { code: TransferErrorCode.Protocol, message });
  }

  private async run(round: Round): Promise<void> {
    round.running = true;
    try {
      while (!round.aborted) {
        const job = round.queue.shift();
        if (!job) break;
        const file = this.files.get(job.fileId);
        if (!file || file.state !== 'pending') continue;
        round.current = job;
        try {
          await this.sendFile(round, job, file);
        } catch (error) {
          if (round.aborted) break;
          this.sourceFailed(round, file, error);
        } finally {
          round.current = null;
        }
      }
    } finally {
      round.running = false;
    }
  }

  private sourceFailed(round: Round, file: FileEntry, error: unknown): void {
    const failure = asTransferError(error, TransferErrorCode.SourceUnreadable, `cannot read ${file.meta.relativePath}`);
    const info = { code: failure.code, message: failure.message };
    round.settle(file.meta.fileId);
    this.trails.delete(file.meta.fileId);
    this.ctx
      .link(this.contactId)
      ?.control({ t: 'error', offerId: this.offerId, fileId: file.meta.fileId, ...info, fatal: true });
    this.finishFile(file, 'failed', info);
    this.ctx.emit('error', { contactId: this.contactId, offerId: this.offerId, fileId: file.meta.fileId, ...info });
    this.checkDone();
  }

  private async openSource(file: FileEntry): Promise<SourceFile> {
    const { meta } = file;
    let source: SourceFile;
    try {
      source = await this.ctx.source.open(meta.source ?? '');
    } catch (error) {
      throw asTransferError(error, TransferErrorCode.SourceUnreadable, `cannot open ${meta.relativePath}`);
    }
    const changed =
      source.size !== meta.size ||
      (meta.mtime !== undefined && source.mtime !== undefined && Math.abs(source.mtime - meta.mtime) >= 1);
    if (changed) {
      await source.close().catch(() => {});
      throw new TransferError(
        TransferErrorCode.SourceChanged,
        `${meta.relativePath} changed since it was offered; send it again`,
      );
    }
    return source;
  }

  private async trailFor(file: FileEntry): Promise<HashTrail> {
    let trail = this.trails.get(file.meta.fileId);
    if (trail) return trail;
    trail = await HashTrail.create(this.ctx.options.blockHash);
    const saved = this.persistedHash.get(file.meta.fileId);
    if (saved && saved.offset <= file.meta.size) {
      try {
        trail.remember(saved.offset, decodeHashState(saved.state));
      } catch {
        // Unusable saved state: the trail falls back to hashing from the start.
      }
    }
    this.trails.set(file.meta.fileId, trail);
    return trail;
  }

  /** Brings the trail's hash to exactly `offset`, re-reading from the nearest remembered state. */
  private async hashTo(source: SourceFile, trail: HashTrail, offset: number): Promise<void> {
    let at = await trail.rewind(offset);
    while (at < offset) {
      const data = await readExact(source, at, Math.min(this.ctx.options.chunkBytes * 4, offset - at));
      trail.update(data);
      at += data.length;
      if (trail.backlog > MAX_DIGEST_BACKLOG) await trail.settled();
    }
  }

  /** Does the receiver's unconfirmed range hold our bytes? Leaves the trail's hash at the range's end. */
  private async checkRange(
    source: SourceFile,
    trail: HashTrail,
    check: { from: number; length: number; sha256: string },
  ): Promise<boolean> {
    await this.hashTo(source, trail, check.from);
    const rangeHash = await Sha256.create();
    let at = check.from;
    const end = check.from + check.length;
    while (at < end) {
      const data = await readExact(source, at, Math.min(this.ctx.options.chunkBytes * 4, end - at));
      trail.update(data);
      rangeHash.update(data);
      at += data.length;
      if (trail.backlog > MAX_DIGEST_BACKLOG) await trail.settled();
    }
    return rangeHash.peekHex() === check.sha256;
  }

  private async sendFile(round: Round, job: Job, file: FileEntry): Promise<void> {
    const { fileId, size } = file.meta;
    const source = await this.openSource(file);
    try {
      if (this.laneWanted(round, file) && (await this.sendOnLane(round, job, file))) return;
      const trail = await this.trailFor(file);
      let offset = job.start;
      if (job.check && !(await this.checkRange(source, trail, job.check))) offset = job.check.from;
      await this.hashTo(source, trail, offset);
      if (round.aborted) return;
      round.begin(fileId, offset);
      const { chunkBytes } = this.ctx.options;
      const reads = new ReadAhead(source, size, () =>
        Math.min(chunkBytes, this.ctx.link(this.contactId)?.chunkBytes?.() ?? chunkBytes),
      );
      reads.from(offset);
      let sliceFrom = this.ctx.now();
      // Until `end` is sent, a resume request (restartAt) may come in at any await, the last ones too.
      for (;;) {
        if (round.aborted || file.state !== 'pending') return;
        if (
          this.ctx.now() - sliceFrom >= YIELD_SLICE_MS &&
          this.ctx.link(this.contactId)?.chunkBytes?.() !== undefined
        ) {
          await nextTask();
          sliceFrom = this.ctx.now();
        }
        if (job.restartAt !== undefined) {
          if (job.restartAt < 0) return;
          offset = job.restartAt;
          delete job.restartAt;
          await reads.drop();
          await this.hashTo(source, trail, offset);
          round.begin(fileId, offset);
          reads.from(offset);
          continue;
        }
        if (offset >= size) {
          const sha256 = await trail.digestHex();
          if (round.aborted || file.state !== 'pending' || job.restartAt !== undefined) continue;
          this.ctx.link(this.contactId)?.control({ t: 'end', offerId: this.offerId, fileId, size, sha256 });
          return;
        }
        const read = await reads.next();
        if (!read)
          throw new TransferError(
            TransferErrorCode.SourceChanged,
            `${file.meta.relativePath} became shorter while sending`,
          );
        const { data } = read;
        const after = offset + data.length;
        trail.update(data);
        if (trail.backlog > MAX_DIGEST_BACKLOG) await trail.settled();
        const { windowBytes, relayWindowBytes } = this.ctx.options;
        const limit = () => (this.ctx.link(this.contactId)?.path() === 'relay' ? relayWindowBytes : windowBytes);
        // Re-checked after every wake-up: acks, settled files and resume requests all wake the sender.
        for (
          let wait = round.room(limit());
          wait && !round.aborted && job.restartAt === undefined;
          wait = round.room(limit())
        ) {
          const since = this.ctx.now();
          await wait;
          this.ctx.stats.windowWaitMs += this.ctx.now() - since;
          // An acknowledgement (a message, so a later task) woke the sender: a fresh slice.
          sliceFrom = this.ctx.now();
        }
        if (round.aborted || job.restartAt !== undefined) continue;
        let frame: Uint8Array;
        if (read.frame) frame = writeChunkHeader(read.frame, this.idBytes, fileId, offset);
        else {
          frame = allocChunkFrame(this.idBytes, fileId, offset, data.length);
          frame.set(data, CHUNK_HEADER_BYTES);
        }
        round.sent(fileId, after);
        this.ctx.stats.chunkBytesSent += data.length;
        offset = after;
        const link = this.ctx.link(this.contactId);
        try {
          if (!link) throw new Error('no link');
          const since = this.ctx.now();
          // A framed read's buffer goes back to the source once the peer acknowledged it: the next read fills it.
          const framed = read.frame;
          await link.chunk(frame, framed && source.release ? () => source.release!(framed) : undefined);
          this.ctx.stats.streamWaitMs += this.ctx.now() - since;
        } catch {
          // The link closed under us: the next attach re-offers and the receiver says where to go on.
          round.abort();
          return;
        }
      }
    } finally {
      await source.close().catch(() => {});
    }
  }

  /** A file goes on a bulk lane when both sides can, the session runs over TCP and the file is big enough. */
  private laneWanted(round: Round, file: FileEntry): boolean {
    const link = this.ctx.link(this.contactId);
    return (
      round.bulk &&
      link?.route?.() === 'tcp' &&
      file.meta.size >= this.ctx.options.bulkMinBytes &&
      file.meta.source !== undefined &&
      (this.ctx.bulk?.canSend?.(file.meta.source) ?? true)
    );
  }

  /**
   * Offers the receiver a lane for `file` and, if it answers with one, sends the file on it and then `end`.
   * True when the file is handled (sent, or the round/file ended meanwhile); false when it goes on over the
   * stream: no answer, a refusal, or a lane that ended early (then from where the receiver's resume says).
   */
  private async sendOnLane(round: Round, job: Job, file: FileEntry): Promise<boolean> {
    const bulk = this.ctx.bulk;
    const link = this.ctx.link(this.contactId);
    if (!bulk || !link) return false;
    const { fileId, size } = file.meta;
    const share = newBulkShare();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = new Promise<ControlOf<'lane'> | null>((resolve) => {
      round.laneAnswers.set(fileId, resolve);
      timer = setTimeout(() => resolve(null), LANE_ANSWER_MS);
    });
    link.control({ t: 'lane', offerId: this.offerId, fileId, round: round.number, share: toBase64url(share) });
    const reply = await answer;
    clearTimeout(timer);
    round.laneAnswers.delete(fileId);
    if (round.aborted || file.state !== 'pending') return true;
    if (!reply?.share || !reply.hints?.length || reply.offset === undefined || reply.offset > size) {
      this.ctx.logger.info({ offerId: this.offerId, fileId, answered: reply !== null }, 'transfer: no lane');
      return false;
    }
    let acked = reply.offset;
    try {
      const key = await deriveLaneKey({
        // The shares are fresh and travel only inside this verified session; offer and file bind the key.
        sessionId: '',
        offerId: this.offerId,
        fileId,
        senderShare: share,
        receiverShare: fromBase64url(reply.share),
      });
      // The sender's platform hashes what it reads; its digest states come back here, so that the stream
      // (after a cut) or a later lane hashes on from near where it ended, not from byte 0.
      const trail = await this.trailFor(file);
      const digestFrom = trail.pointAtOrBelow(reply.offset);
      const result = await bulk.send({
        key,
        hints: reply.hints,
        source: file.meta.source ?? '',
        size,
        ...(file.meta.mtime !== undefined ? { mtime: file.meta.mtime } : {}),
        ...(digestFrom ? { digestFrom } : {}),
        checkpointBytes: LANE_DIGEST_EVERY,
        // Kept in memory only: persisted states are the receiver's durable ones (see onAck).
        onCheckpoint: (point) => trail.remember(point.offset, point.state),
        signal: round.lanes.signal,
        onAcked: (offset) => {
          if (file.state !== 'pending' || offset <= acked) return;
          this.ctx.stats.laneBytesSent += offset - acked;
          acked = offset;
          file.bytesDone = Math.max(file.bytesDone, offset);
          this.progress(file);
        },
      });
      if (round.aborted || file.state !== 'pending') return true;
      this.ctx.link(this.contactId)?.control({ t: 'end', offerId: this.offerId, fileId, size, sha256: result.sha256 });
      return true;
    } catch (error) {
      if (round.aborted || file.state !== 'pending') return true;
      if (error instanceof TransferError) throw error; // the source: fails the file as on the stream
      this.ctx.logger.info({ offerId: this.offerId, fileId, message: String(error) }, 'transfer: lane ended early');
      // Tell the receiver at once (it may still be waiting for us to dial in): it asks for the rest.
      this.ctx.link(this.contactId)?.control({ t: 'lane', offerId: this.offerId, fileId, round: round.number });
    }
    // The receiver asks for the rest on the stream (resume with fileId and offset); wait a while for it.
    const deadline = setTimeout(() => round.wake(), LANE_ANSWER_MS);
    const since = this.ctx.now();
    while (job.restartAt === undefined && !round.aborted && this.ctx.now() - since < LANE_ANSWER_MS)
      await round.nudge();
    clearTimeout(deadline);
    if (job.restartAt !== undefined && job.restartAt >= 0) {
      job.start = job.restartAt;
      job.check = undefined;
      delete job.restartAt;
    }
    return round.aborted || job.restartAt !== undefined;
  }

  private rememberDurable(file: FileEntry, trail: HashTrail, durable: number): void {
    const last = this.persistedHash.get(file.meta.fileId)?.offset ?? 0;
    if (durable - last < PERSIST_HASH_EVERY) return;
    const state = trail.stateAt(durable);
    if (!state) return;
    const point = { offset: durable, state: encodeHashState(state), scheme: FILE_DIGEST_SCHEME };
    this.persistedHash.set(file.meta.fileId, point);
    this.persistFile(file, point).catch((error: unknown) => this.persistFailed(error));
  }
}

function stripSource(meta: FileEntry['meta']) {
  const { source: _source, ...rest } = meta;
  return rest;
}

function validStart(accepted: AcceptFile, size: number): boolean {
  if (accepted.offset > size) return false;
  return !accepted.check || accepted.check.from + accepted.check.length <= accepted.offset;
}

async function readExact(source: SourceFile, offset: number, length: number): Promise<Uint8Array> {
  const data = await source.read(offset, length);
  if (data.length === 0) throw new TransferError(TransferErrorCode.SourceChanged, 'source file became shorter');
  return data;
}

/** Chunks read ahead of the one being sent: about 1 MiB at the default chunk size. */
const READ_AHEAD = 4;

/**
 * While the stream yields to a call, the sender gives the event loop a turn after this much back-to-back work
 * (ms). Reads, hashing, framing and queueing resolve as microtasks while the windows have room, so a file's
 * start ran as one task: 55-130 ms on a loaded machine (bench:call's trace). In the browser the call's
 * captured and played media pass through the page's main thread (Chromium's track processors and generators
 * live on the window), so that task held the call's audio back as long, and the receiver's jitter buffer grew
 * to match for the rest of the call.
 */
export const YIELD_SLICE_MS = 8;

/** Resolves on a later task (a timer), after whatever else is queued has run. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Sequential reads kept READ_AHEAD chunks ahead of the sender. With one read ahead, a browser sender
 * waited on each Blob stream read (a hop through the browser process) whenever that process was slow to
 * be scheduled; the data channel then ran dry. Reads are served in call order (SourceFile contract).
 */
class ReadAhead {
  private readonly queue: Array<{ length: number; data: Promise<Uint8Array> }> = [];
  /** Sources that can read into a chunk frame's place get reads with room for its header (readFramed). */
  private readonly framed: boolean;
  private readTo = 0;

  constructor(
    private readonly source: SourceFile,
    private readonly size: number,
    /** Read by each read: a stream yielding to a call wants smaller chunks from then on. */
    private readonly chunkBytes: () => number,
  ) {
    this.framed = typeof source.readFramed === 'function';
  }

  /** Starts reading at `offset` (nothing may be queued: drop() first). */
  from(offset: number): void {
    this.readTo = offset;
    this.fill();
  }

  /**
   * The next chunk in order, and the buffer holding it after CHUNK_HEADER_BYTES of room when the source reads
   * framed; null when the source gave fewer bytes than it has (it became shorter).
   */
  async next(): Promise<{ data: Uint8Array; frame: Uint8Array | null } | null> {
    const read = this.queue.shift();
    if (!read) return null;
    const bytes = await read.data;
    const frame = this.framed ? bytes : null;
    const data = frame ? frame.subarray(CHUNK_HEADER_BYTES) : bytes;
    if (data.length !== read.length) {
      await this.drop();
      return null;
    }
    this.fill();
    return { data, frame };
  }

  /** Forgets the queued reads (after they settle: the source serves reads in order). */
  async drop(): Promise<void> {
    const queued = this.queue.splice(0);
    for (const read of queued) await read.data.catch(() => {});
  }

  private fill(): void {
    while (this.queue.length < READ_AHEAD && this.readTo < this.size) {
      const length = Math.min(this.chunkBytes(), this.size - this.readTo);
      const data = this.framed
        ? this.source.readFramed!(this.readTo, length, CHUNK_HEADER_BYTES)
        : this.source.read(this.readTo, length);
      this.queue.push({ length, data: guard(data) });
      this.readTo += length;
    }
  }
}

/** A read-ahead promise that may be abandoned: never an unhandled rejection. */
function guard<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
