// File transfers as the UI shows them: one row per file, with progress, speed, ETA and the actions
// that apply in its state. The engine adapter (core/src/transfer) feeds it with `update()`.
import type { IdentityId, SessionPath } from '../../../core/src/api.js';
import { SpeedMeter } from '../lib/speed.js';

export type TransferStatus =
  | 'offered' // incoming, waiting for the user to accept or decline
  | 'waiting' // outgoing, waiting for the contact to accept
  | 'active'
  | 'paused' // link gone; resumes when the contact is back
  | 'verifying'
  | 'done'
  | 'failed'
  | 'cancelled'
  | 'declined';

export interface TransferView {
  id: string;
  /** Offer the file belongs to (several files share one offer). */
  offerId: string;
  contactId: IdentityId;
  direction: 'in' | 'out';
  name: string;
  size: number;
  bytesDone: number;
  /** Smoothed bytes per second while active. */
  speed: number;
  status: TransferStatus;
  path: SessionPath;
  error: string | null;
  /** Where the received file was saved (file name on the web, path in Electron). */
  savedAs: string | null;
  /** Web client: handed to the browser's downloads at least once (this page's life). */
  saved: boolean;
  /** Web client: the copy in the browser's storage was removed after saving. */
  copyRemoved: boolean;
  createdAt: number;
}

export interface TransferUpdate extends Partial<Omit<TransferView, 'id' | 'saved' | 'copyRemoved'>> {
  id: string;
}

/** What the transfer engine offers the UI; implemented by the adapter over core/src/transfer. */
export interface TransferActions {
  send(contactId: IdentityId, files: File[]): Promise<void>;
  /**
   * The desktop app: files picked in the main process's own dialog and sent from there (the page never
   * holds their bytes; on a direct TCP session main moves them itself). Absent on the web: the page's
   * file input is the picker.
   */
  pick?(contactId: IdentityId): Promise<void>;
  accept(offerId: string): Promise<void>;
  decline(offerId: string): Promise<void>;
  cancel(transferId: string): Promise<void>;
}

export const FINISHED: ReadonlySet<TransferStatus> = new Set(['done', 'failed', 'cancelled', 'declined']);

export interface TransfersStateOptions {
  now?: () => number;
  /** A received file was verified and stored (once per row): the web client may save it at once. */
  onReceived?: (item: TransferView) => void;
}

export class TransfersState {
  #items = $state<TransferView[]>([]);
  #actions = $state<TransferActions | null>(null);
  readonly #meters = new Map<string, SpeedMeter>();
  readonly #now: () => number;
  readonly #onReceived: ((item: TransferView) => void) | undefined;

  constructor(options: TransfersStateOptions = {}) {
    this.#now = options.now ?? (() => Date.now());
    this.#onReceived = options.onReceived;
  }

  get items(): readonly TransferView[] {
    return this.#items;
  }

  /** What the engine adapter lets the UI do; null while no engine runs. */
  get actions(): TransferActions | null {
    return this.#actions;
  }

  bindActions(actions: TransferActions | null): void {
    this.#actions = actions;
  }

  /** A new engine: its adapter feeds the rows again from the stored offers. */
  reset(): void {
    this.#items = [];
    this.#meters.clear();
  }

  forContact(contactId: IdentityId): TransferView[] {
    return this.#items.filter((x) => x.contactId === contactId);
  }

  /** Incoming offers waiting for a decision, grouped by offer. */
  pendingOffers(contactId: IdentityId): string[] {
    return [
      ...new Set(this.#items.filter((x) => x.contactId === contactId && x.status === 'offered').map((x) => x.offerId)),
    ];
  }

  update(u: TransferUpdate): void {
    let item = this.#items.find((x) => x.id === u.id);
    const before = item?.status;
    if (!item) {
      if (u.contactId === undefined || u.direction === undefined || u.name === undefined || u.size === undefined)
        return;
      this.#items.push({
        id: u.id,
        offerId: u.offerId ?? u.id,
        contactId: u.contactId,
        direction: u.direction,
        name: u.name,
        size: u.size,
        bytesDone: 0,
        speed: 0,
        status: u.direction === 'in' ? 'offered' : 'waiting',
        path: 'none',
        error: null,
        savedAs: null,
        saved: false,
        copyRemoved: false,
        createdAt: this.#now(),
      });
      item = this.#items[this.#items.length - 1]!;
    }
    const { id: _id, speed, ...rest } = u;
    Object.assign(item, rest);
    if (u.bytesDone !== undefined) {
      let meter = this.#meters.get(u.id);
      if (!meter) this.#meters.set(u.id, (meter = new SpeedMeter()));
      const measured = meter.sample(u.bytesDone, this.#now());
      item.speed = speed ?? measured;
    } else if (speed !== undefined) item.speed = speed;
    if (FINISHED.has(item.status) || item.status === 'paused') {
      item.speed = 0;
      this.#meters.get(u.id)?.reset();
    }
    // Only a file seen arriving (not one listed as done from storage after a reload) counts as received now.
    if (before !== undefined && before !== 'done' && item.status === 'done' && item.direction === 'in' && item.savedAs)
      this.#onReceived?.(item);
  }

  /** The received file was handed to the browser's downloads (web client). */
  markSaved(id: string): void {
    const item = this.#items.find((x) => x.id === id);
    if (item) item.saved = true;
  }

  /** The browser's own copy of a saved file was removed to free its storage (web client). */
  markCopyRemoved(id: string): void {
    const item = this.#items.find((x) => x.id === id);
    if (item) item.copyRemoved = true;
  }

  /** Removes finished rows of one contact (the "clear" button). */
  clearFinished(contactId: IdentityId): void {
    this.#items = this.#items.filter((x) => x.contactId !== contactId || !FINISHED.has(x.status));
  }
}
