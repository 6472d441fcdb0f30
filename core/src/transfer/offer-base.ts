// State shared by an outgoing and an incoming offer: the persisted record, per-file state, info
// snapshots for the UI, throttled progress events.
import { etaSeconds, SpeedMeter } from './progress.js';
import type { TransferContext } from './context.js';
import type { FileRecord, OfferRecord } from './store.js';
import type { FileState, OfferState, TransferErrorInfo, TransferFileInfo, TransferInfo } from './types.js';
import type { OfferFile } from './protocol.js';

export interface FileEntry {
  meta: OfferFile & { source?: string };
  state: FileState;
  /** Absolute offset confirmed written by the receiver. */
  bytesDone: number;
  savedAs?: string;
  error?: TransferErrorInfo;
}

export const FINAL_OFFER_STATES: ReadonlySet<OfferState> = new Set(['done', 'declined', 'cancelled']);

export abstract class OfferBase {
  readonly files = new Map<number, FileEntry>();
  private readonly meter = new SpeedMeter();
  private lastProgressAt = -Infinity;

  constructor(
    protected readonly ctx: TransferContext,
    readonly record: OfferRecord,
    stored: Map<number, FileRecord> = new Map(),
  ) {
    for (const meta of record.files) {
      const saved = stored.get(meta.fileId);
      const state = saved?.state ?? 'pending';
      this.files.set(meta.fileId, {
        meta,
        state,
        bytesDone: state === 'verified' ? meta.size : (saved?.hash?.offset ?? 0),
        ...(saved?.savedAs !== undefined ? { savedAs: saved.savedAs } : {}),
        ...(saved?.error ? { error: saved.error } : {}),
      });
    }
  }

  get offerId(): string {
    return this.record.offerId;
  }

  get contactId(): string {
    return this.record.contactId;
  }

  get state(): OfferState {
    return this.record.state;
  }

  get final(): boolean {
    return FINAL_OFFER_STATES.has(this.record.state);
  }

  info(): TransferInfo {
    const files: TransferFileInfo[] = [...this.files.values()].map((f) => ({
      fileId: f.meta.fileId,
      relativePath: f.meta.relativePath,
      size: f.meta.size,
      mime: f.meta.mime,
      ...(f.meta.mtime !== undefined ? { mtime: f.meta.mtime } : {}),
      state: f.state,
      bytesDone: f.bytesDone,
      ...(f.savedAs !== undefined ? { savedAs: f.savedAs } : {}),
      ...(f.error ? { error: f.error } : {}),
    }));
    return {
      offerId: this.offerId,
      contactId: this.contactId,
      direction: this.record.direction,
      state: this.record.state,
      createdAt: this.record.createdAt,
      total: this.record.total,
      files,
      ...(this.record.error ? { error: this.record.error } : {}),
    };
  }

  protected setState(state: OfferState, error?: TransferErrorInfo): void {
    if (this.record.state === state && !error) return;
    this.record.state = state;
    if (error) this.record.error = error;
    else delete this.record.error;
    this.persistOffer();
    this.ctx.emit('state', this.info());
  }

  protected persistOffer(): void {
    this.ctx.store.saveOffer(this.record).catch((error: unknown) => this.persistFailed(error));
  }

  protected persistFile(file: FileEntry, hash?: { offset: number; state: string; scheme: string }): Promise<void> {
    const record: FileRecord = {
      state: file.state,
      ...(file.error ? { error: file.error } : {}),
      ...(file.savedAs !== undefined ? { savedAs: file.savedAs } : {}),
      ...(hash ? { hash } : {}),
    };
    return this.ctx.store.saveFile(this.record, file.meta.fileId, record);
  }

  protected persistFailed(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.ctx.logger.error({ offerId: this.offerId, message }, 'transfer: could not persist state');
    this.ctx.emit('error', {
      contactId: this.contactId,
      offerId: this.offerId,
      code: 'storage',
      message: `could not save transfer state: ${message}`,
    });
  }

  /** Marks a file final and reports it; returns false if it already was. */
  protected finishFile(file: FileEntry, state: Exclude<FileState, 'pending'>, error?: TransferErrorInfo): boolean {
    if (file.state !== 'pending') return false;
    file.state = state;
    if (state === 'verified') file.bytesDone = file.meta.size;
    if (error) file.error = error;
    this.persistFile(file).catch((e: unknown) => this.persistFailed(e));
    this.ctx.emit('file', {
      offerId: this.offerId,
      contactId: this.contactId,
      direction: this.record.direction,
      fileId: file.meta.fileId,
      relativePath: file.meta.relativePath,
      state,
      ...(file.savedAs !== undefined ? { savedAs: file.savedAs } : {}),
      ...(error ? { error } : {}),
    });
    this.progress(file, true);
    return true;
  }

  /** Offer is done once every file is final. */
  protected checkDone(): void {
    if (this.final) return;
    for (const file of this.files.values()) if (file.state === 'pending') return;
    this.setState('done');
  }

  protected bytesDone(): number {
    let done = 0;
    for (const file of this.files.values())
      done += file.state === 'pending' || file.state === 'verified' ? file.bytesDone : file.meta.size;
    return done;
  }

  /** Throttled progress event for `file`; `force` for milestones (file finished). */
  protected progress(file: FileEntry, force = false): void {
    const now = this.ctx.now();
    if (!force && now - this.lastProgressAt < this.ctx.options.progressIntervalMs) return;
    this.lastProgressAt = now;
    const done = this.bytesDone();
    const speed = this.meter.sample(done, now);
    this.ctx.emit('progress', {
      offerId: this.offerId,
      contactId: this.contactId,
      direction: this.record.direction,
      fileId: file.meta.fileId,
      relativePath: file.meta.relativePath,
      fileBytesDone: file.bytesDone,
      fileSize: file.meta.size,
      bytesDone: done,
      total: this.record.total,
      speed,
      eta: etaSeconds(this.record.total - done, speed),
      path: this.ctx.link(this.contactId)?.path() ?? 'none',
    });
  }

  /** Restarts the speed baseline after a pause so the first sample does not average over the gap. */
  protected rebaseSpeed(): void {
    this.meter.rebase(this.bytesDone(), this.ctx.now());
  }
}
