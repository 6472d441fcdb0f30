// Saving to a place the user picks (File System Access API, Chromium). The writable stream commits on
// close; abort also closes, so what arrived is kept.
import type { BridgeFileSink } from '../../../core/src/bridge.js';
import { safeFileName } from './filenames.js';

interface SavePickerWindow {
  showSaveFilePicker?: (options: { suggestedName?: string }) => Promise<FileSystemFileHandle>;
}

export function canPickSaveLocation(): boolean {
  return typeof (window as unknown as SavePickerWindow).showSaveFilePicker === 'function';
}

/** Shows the save dialog; null when the user cancels. Must run during a user gesture (a click). */
export async function pickSaveSink(suggestedName: string): Promise<BridgeFileSink | null> {
  const picker = (window as unknown as SavePickerWindow).showSaveFilePicker;
  if (!picker) return null;
  let handle: FileSystemFileHandle;
  try {
    handle = await picker.call(window, { suggestedName: safeFileName(suggestedName) });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') return null;
    throw err;
  }
  const writable = await handle.createWritable({ keepExistingData: false });
  let closed = false;
  return {
    name: handle.name,
    existingBytes: 0,
    async write(chunk: Uint8Array) {
      await writable.write(chunk as Uint8Array<ArrayBuffer>);
    },
    async close() {
      if (closed) return;
      closed = true;
      await writable.close();
    },
    async abort() {
      if (closed) return;
      closed = true;
      await writable.close();
    },
  };
}
