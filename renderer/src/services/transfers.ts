// File transfer in the web client. The Messenger runs the transfer engine on every contact's session
// (core/src/messenger.ts); this adapter supplies the browser's files (Blob reads; writes to OPFS on the
// web, or through the bridge into the Downloads folder in Electron), feeds TransfersState from the
// engine's events, implements the state's actions, and turns picked File objects into offers.
import type { IdentityId, Unsubscribe } from '../../../core/src/api.js';
import type { BridgeBulk, BridgeDownloads } from '../../../core/src/bridge.js';
import type { MessengerFilesOptions } from '../../../core/src/messenger.js';
import { MAX_WINDOW_BYTES, type OutgoingFile, type TransferEngine } from '../../../core/src/transfer/index.js';
import { MAIN_SOURCE_PREFIX } from '../platform/bridge-bulk.js';
import { BridgeFileSink } from '../platform/bridge-sink.js';
import { uniqueName } from '../platform/filenames.js';
import { BrowserFileSource, OpfsFileSink } from '../platform/transfer-io.js';
import type { EngineLike } from '../state/engine.js';
import { outgoingName, rowId, rowsOf } from '../state/transfer-rows.js';
import type { TransfersState } from '../state/transfers.svelte.js';

export interface BrowserFiles {
  /** Picked files, read by the engine through ids this source hands out. */
  source: BrowserFileSource;
  /** What the Messenger is opened with. */
  options: MessengerFilesOptions;
}

/** The browser's file IO for the Messenger: received files go to the bridge's Downloads (Electron), else to OPFS. */
export function browserFiles(downloads?: BridgeDownloads): BrowserFiles {
  const source = new BrowserFileSource();
  const opfs = downloads ? null : new OpfsFileSink();
  return {
    source,
    options: {
      source,
      sink: opfs ?? new BridgeFileSink(downloads!),
      // Each offer waits for the user: meanwhile the storage worker starts (see OpfsFileSink.warm).
      decide: () => {
        opfs?.warm();
        return 'ask';
      },
      // Chromium's SCTP (dcsctp) keeps several MiB in flight beyond the channel's buffer: with 8 MiB the
      // sender waited for acks 5-6 s of a 10 s, 100 MB transfer (bench:e2e) and the link idled; with 16
      // MiB it never waited, and the app moved what the bare data channel did. A receiver whose disk
      // falls behind holds up to one window of chunks in memory.
      windowBytes: MAX_WINDOW_BYTES,
    },
  };
}

export class TransferService {
  private readonly offs: Unsubscribe[] = [];

  constructor(
    private readonly messenger: EngineLike,
    private readonly engine: TransferEngine,
    private readonly source: BrowserFileSource,
    private readonly state: TransfersState,
    private readonly onError: (message: string) => void,
    /** The desktop app's picker in main (files named by tokens, read by main); absent on the web. */
    private readonly mainPicker?: Pick<BridgeBulk, 'pick'>,
  ) {}

  /** Binds the state to the engine (the Messenger started it and closes it). */
  start(): void {
    const e = this.engine;
    this.offs.push(
      e.on('offer', (info) => rowsOf(info).forEach((r) => this.state.update(r))),
      e.on('state', (info) => rowsOf(info).forEach((r) => this.state.update(r))),
      e.on('progress', (p) =>
        this.state.update({
          id: rowId(p.offerId, p.fileId),
          bytesDone: p.fileBytesDone,
          speed: p.speed,
          path: p.path,
          ...(p.fileBytesDone < p.fileSize ? { status: 'active' } : {}),
        }),
      ),
      e.on('file', (f) => {
        const info = e.get(f.offerId);
        if (info) rowsOf(info).forEach((r) => this.state.update(r));
      }),
      e.on('error', (err) => {
        // Offer-level problems also arrive as state changes; only a problem with no offer is shown here.
        if (!err.offerId) this.onError(err.message);
      }),
    );
    for (const info of e.list()) rowsOf(info).forEach((r) => this.state.update(r));

    this.state.bindActions({
      send: (contactId, files) => this.send(contactId, files),
      ...(this.mainPicker ? { pick: (contactId: IdentityId) => this.pick(contactId) } : {}),
      accept: async (offerId) => {
        this.engine.accept(offerId);
      },
      decline: async (offerId) => {
        this.engine.decline(offerId);
      },
      cancel: async (id) => {
        const sep = id.lastIndexOf(':');
        this.engine.cancel(id.slice(0, sep), Number(id.slice(sep + 1)));
      },
    });
  }

  async send(contactId: IdentityId, files: File[]): Promise<void> {
    const named = uniqueNames(files.map((f) => f.name));
    await this.offer(
      contactId,
      files.map((file, i) => ({
        relativePath: named[i]!,
        source: this.source.add(file),
        size: file.size,
        ...(file.type ? { mime: file.type } : {}),
        mtime: file.lastModified,
      })),
    );
  }

  /** Files the user picks in main's dialog, offered as main's (`main:` sources); nothing when the dialog is cancelled. */
  async pick(contactId: IdentityId): Promise<void> {
    if (!this.mainPicker) throw new Error('no file picker in this app');
    const picked = await this.mainPicker.pick();
    if (picked.length === 0) return;
    const named = uniqueNames(picked.map((f) => f.name));
    await this.offer(
      contactId,
      picked.map((file, i) => ({
        relativePath: named[i]!,
        source: `${MAIN_SOURCE_PREFIX}${file.token}`,
        size: file.size,
        mtime: file.mtime,
      })),
    );
  }

  private async offer(contactId: IdentityId, outgoing: OutgoingFile[]): Promise<void> {
    const infos = await this.messenger.sendFiles(contactId, outgoing);
    for (const info of infos) rowsOf(info).forEach((r) => this.state.update(r));
  }

  /** Unbinds the state; the engine itself closes with its Messenger. */
  close(): void {
    for (const off of this.offs.splice(0)) off();
    this.state.bindActions(null);
  }
}

/** Offer names for picked files: made safe, and unique within one offer. */
function uniqueNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((raw) => {
    const name = uniqueName(outgoingName(raw), (n) => taken.has(n.normalize('NFC')));
    taken.add(name.normalize('NFC'));
    return name;
  });
}
