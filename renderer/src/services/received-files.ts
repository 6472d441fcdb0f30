// Web client: received files are stored in the browser's private storage (OPFS) as they arrive, and
// reach the user's disk through the browser's downloads. Saving marks the row; removing the browser's
// copy afterwards frees that storage. The desktop app writes straight to Downloads/Parley instead.
import { deleteDownload, exportDownload } from '../platform/opfs.js';
import type { TransfersState, TransferView } from '../state/transfers.svelte.js';

export class ReceivedFiles {
  readonly #transfers: TransfersState;

  constructor(transfers: TransfersState) {
    this.#transfers = transfers;
  }

  /** Hands the file to the browser's downloads (its "Save" or the automatic save). */
  async save(item: TransferView): Promise<void> {
    if (!item.savedAs) throw new Error('This file has not been stored yet.');
    if (item.copyRemoved) throw new Error('The browser’s copy of this file was removed after it was saved.');
    await exportDownload(item.savedAs);
    this.#transfers.markSaved(item.id);
  }

  /** Removes the copy kept in the browser's storage (offered once the file was saved). */
  async removeBrowserCopy(item: TransferView): Promise<void> {
    if (!item.savedAs) return;
    await deleteDownload(item.savedAs).catch((error: unknown) => {
      // Already gone (removed from the Received files list): the outcome is the same.
      if (!(error instanceof DOMException && error.name === 'NotFoundError')) throw error;
    });
    this.#transfers.markCopyRemoved(item.id);
  }
}
