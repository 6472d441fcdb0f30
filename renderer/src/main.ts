// Composition root of the renderer: picks the bridge (Electron preload or browser), opens storage,
// builds the state and mounts the UI.
import { mount } from 'svelte';
import type { ParleyBridge } from '../../core/src/bridge.js';
import App from './App.svelte';
import './app.css';
import { WebBridge } from './bridge/web.js';
import { detectLanguage } from './i18n/languages.js';
import { i18n } from './i18n/index.svelte.js';
import { Attention } from './lib/attention.js';
import { sameOriginRelayUrl } from './lib/relay-url.js';
import { openEngine } from './engine-factory.js';
import { bridgeTcpPlatform } from './platform/bridge-tcp.js';
import { bridgeBulkPlatform, withMainSources } from './platform/bridge-bulk.js';
import { bindCalls } from './services/calls.js';
import { ReceivedFiles } from './services/received-files.js';
import { browserFiles, TransferService } from './services/transfers.js';
import { IdbIdentityKeyStore } from './platform/identity-store.js';
import { IdbKeyValueStore, openParleyDb } from './platform/idb.js';
import { AppState } from './state/app.svelte.js';
import { CallUiState } from './state/call.svelte.js';
import type { AppContext } from './state/context.js';
import { ModalLayers } from './state/modal-layers.svelte.js';
import { TransfersState } from './state/transfers.svelte.js';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a browser. */
    parley?: ParleyBridge;
  }
}

/** One tab per browser profile runs the identity: two would fight over the relay connection. */
async function acquireInstanceLock(): Promise<boolean> {
  if (!('locks' in navigator)) return true;
  return new Promise((resolve) => {
    void navigator.locks.request('parley-instance', { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      // Hold the lock for the life of the page.
      return lock ? new Promise<void>(() => {}) : undefined;
    });
  });
}

/** WebCrypto, OPFS and the camera exist only in secure contexts (https, localhost, the Electron app). */
function insecureContextMessage(): string | null {
  if (window.isSecureContext && crypto?.subtle) return null;
  return navigator.language.toLowerCase().startsWith('zh')
    ? 'Parley 需要安全连接：请通过 https（或本机 localhost）打开此页面。'
    : 'Parley needs a secure connection: open this page over https (or on localhost).';
}

async function init(): Promise<void> {
  const insecure = insecureContextMessage();
  if (insecure) throw new Error(insecure);
  const bridge: AppContext['bridge'] = window.parley ?? new WebBridge();
  const db = await openParleyDb();
  const engineStore = new IdbKeyValueStore(db, 'kv');
  const uiStore = new IdbKeyValueStore(db, 'ui');
  const identityStore = new IdbIdentityKeyStore(db);
  const language = detectLanguage(navigator.languages ?? [navigator.language]);
  i18n.language = language;

  const embedded = await bridge.embeddedRelayUrl().catch(() => null);
  const defaultRelay = embedded ?? sameOriginRelayUrl(location.href);

  const files = browserFiles(bridge.downloads);
  // Desktop app: the direct TCP path, its sockets in the main process. The web client has none.
  const tcp = bridge.tcp ? bridgeTcpPlatform(bridge.tcp) : undefined;
  // Bulk lanes need main's sockets and its Downloads sink: only with both.
  const bulk = bridge.bulk && bridge.downloads ? bridgeBulkPlatform(bridge.bulk) : undefined;
  // Files picked in main's dialog (`main:` sources) are read through main when they go on the session stream.
  const fileOptions = bridge.bulk
    ? { ...files.options, source: withMainSources(bridge.bulk, files.options.source) }
    : files.options;
  // "Read" means the page is visible with the chat open and the user around, not window focus alone.
  const attention = new Attention({ visible: () => document.visibilityState === 'visible', now: () => Date.now() });
  attention.listen(window, document);
  const app = new AppState({
    bridge,
    uiStore,
    hasIdentity: () => identityStore.exists(),
    openEngine: (options) =>
      openEngine({
        ...options,
        store: engineStore,
        identityStore,
        files: fileOptions,
        ...(tcp ? { tcp } : {}),
        ...(bulk ? { bulk } : {}),
      }),
    defaultSettings: {
      relays: defaultRelay ? [defaultRelay] : [],
      iceServers: [],
      language,
      notifications: true,
      // PairDrop-like: an accepted file lands in the browser's downloads once verified.
      autoSaveReceived: true,
      relayOnly: false,
    },
    acquireInstanceLock: bridge.platform === 'web' ? acquireInstanceLock : undefined,
    isVisible: () => attention.attending(),
  });
  attention.onAttend(() => app.onVisible());
  const transfers: TransfersState = new TransfersState({
    // Web client with "Save received files automatically": the browser downloads each file once verified.
    onReceived: (item) => {
      if (bridge.platform !== 'web' || !app.settings.autoSaveReceived) return;
      received.save(item).catch((err: unknown) => app.toasts.error(err instanceof Error ? err.message : String(err)));
    },
  });
  const received = new ReceivedFiles(transfers);
  const call = CallUiState.forBrowser(navigator.mediaDevices ?? null);
  const context: AppContext = { app, transfers, received, call, bridge, layers: new ModalLayers() };

  // Calls and file transfer run on each engine the app opens (settings changes reopen it).
  let transferService: TransferService | null = null;
  let unbindCalls: (() => void) | null = null;
  app.onEngine((engine) => {
    unbindCalls?.();
    unbindCalls = null;
    transferService?.close();
    transferService = null;
    transfers.reset();
    if (!engine) return;
    unbindCalls = bindCalls(engine.calls, call, (peerId) => app.callIncompatible(peerId));
    if (engine.transfers) {
      transferService = new TransferService(
        engine,
        engine.transfers,
        files.source,
        transfers,
        (m) => app.toasts.error(m),
        bridge.bulk,
      );
      transferService.start();
    }
  });

  const target = document.getElementById('app');
  if (!target) throw new Error('missing #app');
  mount(App, { target, props: { context } });
  await app.boot();
}

void init().catch((err: unknown) => {
  const target = document.getElementById('app');
  if (!target) return;
  // Plain DOM: the UI may not have mounted. Classes come from app.css (no inline styles under the CSP).
  const box = document.createElement('p');
  box.className = 'boot-error';
  box.setAttribute('role', 'alert');
  box.textContent = err instanceof Error ? err.message : String(err);
  target.replaceChildren(box);
});
