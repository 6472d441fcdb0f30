// The app's state objects, handed down through Svelte context (typed).
import { createContext } from 'svelte';
import type { ParleyBridge } from '../../../core/src/bridge.js';
import type { ReceivedFiles } from '../services/received-files.js';
import type { AppState } from './app.svelte.js';
import type { CallUiState } from './call.svelte.js';
import type { ModalLayers } from './modal-layers.svelte.js';
import type { TransfersState } from './transfers.svelte.js';

export interface WebExtras {
  onShowDownloads(listener: () => void): () => void;
  requestNotificationPermission(): Promise<boolean>;
}

export interface AppContext {
  app: AppState;
  transfers: TransfersState;
  /** Web client: saving received files to disk and freeing the browser's copy. */
  received: ReceivedFiles;
  call: CallUiState;
  /** Open modal dialogs, topmost last: page overlays render in the top one. */
  layers: ModalLayers;
  bridge: ParleyBridge & Partial<WebExtras>;
}

export const [getApp, setApp] = createContext<AppContext>();
