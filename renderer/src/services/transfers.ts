// The transfer engine in the web client: Blob reads, writes to OPFS (web) or through the bridge into the
// Downloads folder (Electron), persisted in IndexedDB, attached to
// each contact's session as soon as one exists (frames of a kind nobody listens to are dropped, so
// attaching late could lose an offer). Feeds TransfersState and implements its actions.
import type { IdentityId, Unsubscribe } from '../../../core/src/api.js';
import type { BridgeDownloads } from '../../../core/src/bridge.js';
import type { Messenger } from '../../../core/src/messenger.js';
import type { KeyValueStore, Logger } from '../../../core/src/platform/types.js';
import { MAX_WINDOW_BYTES, TransferEngine, type OutgoingFile } from '../../../core/src/transfer/index.js';
import { attachSession } from '../../../core/src/transfer/session-stream.js';
import { BridgeFileSink } from '../platform/bridge-sink.js';
import { uniqueName } from '../platform/filenames.js';
import { BrowserFileSource, OpfsFileSink } from '../platform/transfer-io.js';
import { outgoingName, rowId, rowsOf } from '../state/transfer-rows.js';
import type { TransfersState } from '../state/transfers.svelte.js';

export class TransferService {
  readonly engine: TransferEngine;
  private readonly source = new BrowserFileSource();
  private readonly attached = new Map<IdentityId, Unsubscribe>();
  private readonly offs: Unsubscribe[] = [];
  private readonly known = new Set<IdentityId>();

  constructor(
    private readonly messenger: Messenger,
    store: KeyValueStore,
    private readonly state: TransfersState,
    logger: Logger,
    private readonly onError: (message: string) => void,
    /** The bridge's received-files sink (Electron); without it files go to the origin-private file system. */
    downloads?: BridgeDownloads,
  ) {
    this.engine = new TransferEngine({
      store,
      source: this.source,
      sink: downloads ? new BridgeFileSink(downloads) : new OpfsFileSink(),
      logger,
      isKnownContact: (id) => this.known.has(id),
      decide: () => 'ask',
      // Chromium's SCTP (dcsctp) keeps several MiB in flight beyond the channel's buffer: with 8 MiB the
      // sender waited for acks 5-6 s of a 10 s, 100 MB transfer (bench:e2e) and the link idled; with 16
      // MiB it never waited, and the app moved what the bare data channel did. A receiver whose disk
      // falls behind holds up to one window of chunks in memory.
      windowBytes: MAX_WINDOW_BYTES,
    });
  }

  async start(): Promise<void> {
    const contacts = await this.messenger.contacts();
    for (const c of contacts) this.known.add(c.id);
    const e = this.engine;
    this.offs.push(
      e.on('offer', (info) => rowsOf(info).forEach((r) => this.state.update(r))),
      e.on('state', (info) => rowsOf(info).forEach((r) => this.state.update(r))),
      e.on('progress', (p) =>
        this.state.update({ id: rowId(p.offerId, p.fileId), bytesDone: p.fileBytesDone, speed: p.speed, path: p.path, ...(p.fileBytesDone < p.fileSize ? { status: 'active' } : {}) }),
      ),
      e.on('file', (f) => {
        const info = e.get(f.offerId);
        if (info) rowsOf(info).forEach((r) => this.state.update(r));
      }),
      e.on('error', (err) => {
        // Offer-level problems also arrive as state changes; only a problem with no offer is shown here.
        if (!err.offerId) this.onError(err.message);
      }),
      this.messenger.on('contact', (c) => {
        this.known.add(c.id);
        if (c.online) this.attach(c.id);
      }),
      this.messenger.on('path', ({ contactId, path }) => {
        if (path !== 'none') this.attach(contactId);
      }),
    );
    await e.start();
    for (const info of e.list()) rowsOf(info).forEach((r) => this.state.update(r));
    for (const c of contacts) if (c.online) this.attach(c.id);
    for (const id of e.contactsWithUnfinished()) if (this.known.has(id)) this.attach(id);

    this.state.actions = {
      send: (contactId, files) => this.send(contactId, files),
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
    };
  }

  /** Runs the engine on the contact's session (creating it). Idempotent. */
  attach(contactId: IdentityId): void {
    if (this.attached.has(contactId) || !this.known.has(contactId)) return;
    try {
      this.attached.set(contactId, attachSession(this.engine, contactId, this.messenger.sessionFor(contactId)));
    } catch (err) {
      this.onError(err instanceof Error ? err.message : String(err));
    }
  }

  async send(contactId: IdentityId, files: File[]): Promise<void> {
    this.known.add(contactId);
    this.attach(contactId);
    const taken = new Set<string>();
    const outgoing: OutgoingFile[] = files.map((file) => {
      const name = uniqueName(outgoingName(file.name), (n) => taken.has(n.normalize('NFC')));
      taken.add(name.normalize('NFC'));
      return {
        relativePath: name,
        source: this.source.add(file),
        size: file.size,
        ...(file.type ? { mime: file.type } : {}),
        mtime: file.lastModified,
      };
    });
    const infos = await this.engine.send(contactId, outgoing);
    for (const info of infos) rowsOf(info).forEach((r) => this.state.update(r));
  }

  async close(): Promise<void> {
    for (const off of this.offs) off();
    for (const off of this.attached.values()) off();
    this.attached.clear();
    this.state.actions = null;
    await this.engine.close();
  }
}
