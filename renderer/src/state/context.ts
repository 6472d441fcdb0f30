// The app's state objects, handed down through Svelte context (typed).
import { createContext } from 'svelte';
import type { ParleyBridge } from '../../../core/src/bridge.js';
import type { AppState } from './app.svelte.js';
import type { CallState } from './call.svelte.js';
import type { TransfersState } from './transfers.svelte.js';

export interface WebExtras {
  onShowDownloads(listener: () => void): () => void;
  requestNotificationPermission(): Promise<boolean>;
}

export interface AppContext {
  app: AppState;
  transfers: TransfersState;
  call: CallState;
  bridge: ParleyBridge & Partial<WebExtras>;
}

export const [getApp, setApp] = createContext<AppContext>();
