// The composition of the Electron main process, as a function of the Electron API it uses. index.ts calls
// it with the real `electron` module (and does nothing else); tests/unit/electron/compose.test.ts calls it
// with a recording fake and drives the whole shell: ready, single-instance lock, the window, the app://
// handler over the built renderer, IPC from the real preload bridge, deep links, quit.
//
// ElectronMain lists exactly what is used. Members that do not return `this` are picked from Electron's own
// types; event-emitter members are narrowed to the events used (a fake cannot return a whole App from
// on()). The real module is passed to composeMainProcess() in index.ts, so tsc checks that Electron's types
// satisfy every member here: neither this interface nor a fake of it can drift from Electron.
import type {
  App,
  BrowserWindow as ElectronBrowserWindow,
  BrowserWindowConstructorOptions,
  Dialog,
  OpenDialogOptions,
  OpenDialogReturnValue,
  Event as ElectronEvent,
  HandlerDetails,
  IpcMain,
  MenuItemConstructorOptions,
  NotificationConstructorOptions,
  Protocol,
  Rectangle,
  RenderProcessGoneDetails,
  Session,
  Shell,
  WebContents,
  WebRequest,
  WindowOpenHandlerResponse,
} from 'electron';
import { createReadStream, existsSync } from 'node:fs';
import { networkInterfaces as osNetworkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { interfaceAddresses, nodeTcp } from '../../platform/node/src/tcp/index.js';
import { RendererEvent, type BulkEventMessage, type TcpEventMessage } from '../shared/ipc-contract.js';
import { appMenuTemplate } from './app-menu.js';
import { APP_ENTRY_URL, APP_SCHEME, isAppUrl } from './app-origin.js';
import { resolveAppRequest } from './app-protocol.js';
import { registerBridgeIpc } from './bridge-ipc.js';
import { securityHeaders, withCspHeader } from './csp.js';
import { DEEP_LINK_SCHEME, DeepLinkQueue } from './deep-link.js';
import { DOWNLOADS_SUBDIR, DownloadSinks, registerDownloadIpc } from './download-sinks.js';
import { createValidatedIpc, type IpcMainLike } from './ipc.js';
import { decideNavigation, decideWindowOpen } from './navigation-policy.js';
import { bodyIsMarkup, NotificationCenter, type NotificationLike } from './notifications.js';
import { createPermissionPolicy } from './permission-policy.js';
import { createQuitGuard, EmbeddedRelay, pickLanAddress, type StartRelay } from './relay-lifecycle.js';
import { SettingsStore } from './settings.js';
import { setupSingleInstance } from './single-instance.js';
import { registerTcpIpc, TcpSockets } from './tcp-sockets.js';
import { BulkLanes, BulkSources, registerBulkIpc } from './bulk-lanes.js';
import { PickedFilesStore } from './picked-files.js';
import { MOUNTED_PROBE, runSmokeTest, wantsSmokeTest } from './smoke-test.js';
import { INITIAL_TRAY_STATE, trayModel, type TrayAction, type TrayMenuItem, type TrayState } from './tray.js';
import { restoreBounds } from './window-bounds.js';
import { createAppWindow } from './window-options.js';

const APP_USER_MODEL_ID = 'org.parley.desktop';
export const SHUTDOWN_TIMEOUT_MS = 5_000;

// ---------------------------------------------------------------------------------------------- the API

type Preventable = { preventDefault(): void };
type NavigationEvent = Preventable & { url: string };

/** The webContents of the app window and of any other contents (web-contents-created). */
export interface AppWebContents extends Pick<
  WebContents,
  'id' | 'send' | 'getURL' | 'reload' | 'executeJavaScript' | 'setWindowOpenHandler'
> {
  on(
    event: 'did-start-navigation',
    listener: (details: ElectronEvent<{ isMainFrame: boolean; isSameDocument: boolean }>) => void,
  ): unknown;
  on(
    event: 'render-process-gone',
    listener: (event: ElectronEvent, details: RenderProcessGoneDetails) => void,
  ): unknown;
  on(event: 'destroyed', listener: () => void): unknown;
  on(
    event: 'will-navigate' | 'will-frame-navigate' | 'will-redirect',
    listener: (event: NavigationEvent) => void,
  ): unknown;
  on(event: 'will-attach-webview', listener: (event: Preventable) => void): unknown;
  once(event: 'did-finish-load', listener: () => void): unknown;
  once(
    event: 'did-fail-load',
    listener: (event: ElectronEvent, errorCode: number, errorDescription: string) => void,
  ): unknown;
  once(
    event: 'render-process-gone',
    listener: (event: ElectronEvent, details: RenderProcessGoneDetails) => void,
  ): unknown;
}

export interface AppWindow extends Pick<
  ElectronBrowserWindow,
  | 'show'
  | 'focus'
  | 'maximize'
  | 'restore'
  | 'isDestroyed'
  | 'isMinimized'
  | 'isMaximized'
  | 'getNormalBounds'
  | 'loadURL'
> {
  readonly webContents: AppWebContents;
  once(event: 'ready-to-show', listener: () => void): unknown;
  on(event: 'close' | 'closed', listener: () => void): unknown;
}

export interface AppTray<Menu, Image> {
  on(event: 'click', listener: () => void): unknown;
  isDestroyed(): boolean;
  setImage(image: Image): void;
  setToolTip(toolTip: string): void;
  setTitle(title: string): void;
  setContextMenu(menu: Menu | null): void;
}

export interface AppSession extends Pick<
  Session,
  | 'setPermissionRequestHandler'
  | 'setPermissionCheckHandler'
  | 'setDevicePermissionHandler'
  | 'setDisplayMediaRequestHandler'
> {
  on(event: 'will-download', listener: (event: Preventable) => void): unknown;
  readonly webRequest: Pick<WebRequest, 'onHeadersReceived'>;
  readonly protocol: Pick<Protocol, 'handle'>;
}

export interface AppApi extends Pick<
  App,
  | 'enableSandbox'
  | 'setAppUserModelId'
  | 'getPath'
  | 'requestSingleInstanceLock'
  | 'quit'
  | 'exit'
  | 'whenReady'
  | 'isReady'
  | 'isPackaged'
  | 'setAsDefaultProtocolClient'
  | 'setBadgeCount'
> {
  on(event: 'web-contents-created', listener: (event: ElectronEvent, contents: AppWebContents) => void): unknown;
  on(event: 'before-quit', listener: (event: Preventable) => void): unknown;
  on(event: 'window-all-closed' | 'activate', listener: () => void): unknown;
  on(event: 'second-instance', listener: (event: unknown, argv: string[], workingDirectory: string) => void): unknown;
  on(event: 'open-url', listener: (event: Preventable, url: string) => void): unknown;
}

/**
 * The part of the `electron` module the main process uses. `Menu` and `Image` are Electron's Menu and
 * NativeImage for the real module, and whatever the fake hands out in tests (they are only passed back).
 */
export interface ElectronMain<Menu = unknown, Image = unknown, Window extends AppWindow = AppWindow> {
  app: AppApi;
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => Window;
  dialog: Pick<Dialog, 'showErrorBox'> & {
    /** Attached to the window that asked, so it is modal to it (a sheet on macOS), not a free-floating window. */
    showOpenDialog(window: Window, options: OpenDialogOptions): Promise<OpenDialogReturnValue>;
  };
  ipcMain: IpcMainLike & Pick<IpcMain, 'removeHandler'>;
  Menu: {
    buildFromTemplate(template: MenuItemConstructorOptions[]): Menu;
    setApplicationMenu(menu: Menu | null): void;
  };
  nativeImage: { createFromPath(path: string): Image & { isEmpty(): boolean } };
  Notification: { new (options: NotificationConstructorOptions): NotificationLike; isSupported(): boolean };
  protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>;
  screen: { getAllDisplays(): { workArea: Rectangle }[] };
  session: { readonly defaultSession: AppSession };
  shell: Pick<Shell, 'openPath' | 'openExternal' | 'showItemInFolder'>;
  Tray: new (image: Image) => AppTray<Menu, Image>;
}

/** Where the process runs: everything index.ts would otherwise read from globals. */
export interface MainProcessEnv {
  argv: readonly string[];
  platform: NodeJS.Platform;
  /** dist/: holds renderer/ (served over app://) and electron/preload/index.cjs. */
  distDir: string;
  /** The project (or app.asar) root: build/icons live under it. */
  appRoot: string;
  networkInterfaces(): NodeJS.Dict<NetworkInterfaceInfo[]>;
  startRelay: StartRelay;
  log: { info(msg: string, extra?: unknown): void; warn(msg: string, extra?: unknown): void };
  /** The smoke test's verdict line (stdout / stderr). */
  out: { ok(line: string): void; fail(line: string): void };
  /** Calls `handler` for a promise rejection nothing handled (process 'unhandledRejection'). */
  onUnhandledRejection(handler: (reason: unknown) => void): void;
}

/** What the composition hands back: enough for a test to wait for start-up, nothing to steer it with. */
export interface MainProcess {
  /** False when another instance holds the lock: this process quit and made no window. */
  readonly isPrimary: boolean;
  /** Settles when start-up after 'ready' finished (or failed, after the error box). */
  readonly started: Promise<void>;
}

/** The real process: paths from this file's place in dist/, the real relay, the console. */
export function processEnv(): MainProcessEnv {
  // dist/electron/main/compose.js -> dist/, and the project (or app.asar) root above it.
  const distDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return {
    argv: process.argv,
    platform: process.platform,
    distDir,
    appRoot: join(distDir, '..'),
    networkInterfaces: osNetworkInterfaces,
    // Loaded lazily so a broken relay build shows up as "relay failed", not a dead app.
    startRelay: async (options) => {
      const { startRelay } = await import('../../signaling/server/index.js');
      return startRelay(options);
    },
    log: {
      info: (msg, extra) => console.log(`[parley] ${msg}`, extra ?? ''),
      warn: (msg, extra) => console.warn(`[parley] ${msg}`, extra ?? ''),
    },
    out: { ok: (line) => console.log(line), fail: (line) => console.error(line) },
    onUnhandledRejection: (handler) => void process.on('unhandledRejection', handler),
  };
}

// ------------------------------------------------------------------------------------------ composition

export function composeMainProcess<Menu, Image, Window extends AppWindow>(
  electron: ElectronMain<Menu, Image, Window>,
  env: MainProcessEnv = processEnv(),
): MainProcess {
  const {
    app,
    BrowserWindow,
    dialog,
    ipcMain,
    Menu,
    nativeImage,
    Notification,
    protocol,
    screen,
    session,
    shell,
    Tray,
  } = electron;
  const { log, platform } = env;
  // A stray rejection in main (a socket, a lane, the embedded relay) is logged and the app goes on: without a
  // handler Node raises it as an uncaught exception, which Electron shows as an error dialog.
  env.onUnhandledRejection((reason) =>
    log.warn('unhandled rejection in the main process (continuing)', reason instanceof Error ? reason.stack : reason),
  );
  const rendererDir = join(env.distDir, 'renderer');
  const preloadPath = join(env.distDir, 'electron', 'preload', 'index.cjs');
  const trayIconDir = join(env.appRoot, 'build', 'icons', 'tray');
  const windowIcon = join(env.appRoot, 'build', 'icons', 'png', '512x512.png');

  // Before 'ready': app:// must be a standard, secure scheme so the renderer is a secure context (camera,
  // microphone, WebCrypto) with a real origin, and so fetch() of its own assets works. No corsEnabled: the
  // app only loads same-origin modules, and leaving it off keeps app:// unreadable from any other origin.
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  ]);
  app.enableSandbox();
  if (platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);

  let mainWindow: Window | null = null;
  let tray: AppTray<Menu, Image> | null = null;
  let trayState: TrayState = { ...INITIAL_TRAY_STATE };

  const settings = new SettingsStore(app.getPath('userData'));
  // Received files (the transfer engine's sink) go to <Downloads>/Parley, streamed and resumable.
  const downloads = new DownloadSinks({ root: join(app.getPath('downloads'), DOWNLOADS_SUBDIR) });
  // The direct TCP path's sockets (the session in the renderer drives them over IPC): the CLI's own listen
  // and connect, on this machine's interface addresses.
  const tcp = new TcpSockets({
    platform: nodeTcp({ addresses: () => interfaceAddresses(env.networkInterfaces()) }),
    emit: sendTcpEvent,
  });
  // Bulk lanes: on the TCP path a file's bytes go between disk and a lane of main's own; the renderer's
  // engine only hands over the lane key and names the file (a download handle, or a file main's dialog gave).
  // Files picked to send are kept across restarts (their tokens are in the renderer's persisted offers).
  const pickedFiles = new PickedFilesStore(app.getPath('userData'));
  const bulkSources = new BulkSources({
    store: pickedFiles,
    onStoreError: (e) => log.warn('picked files could not be saved', e),
  });
  const bulk = new BulkLanes({
    tcp: nodeTcp({ addresses: () => interfaceAddresses(env.networkInterfaces()) }),
    downloads,
    sources: bulkSources,
    emit: sendBulkEvent,
  });
  const deepLinks = new DeepLinkQueue((url) => sendToRenderer(RendererEvent.DeepLink, url));
  const relay = new EmbeddedRelay({
    startRelay: env.startRelay,
    lanAddress: () => pickLanAddress(env.networkInterfaces()),
    onStatus: (status) => {
      log.info(
        `embedded relay ${status.state}`,
        status.state === 'running' ? status.url : status.state === 'failed' ? status.error : '',
      );
      refreshTray();
    },
  });

  const isPrimary = setupSingleInstance(app, env.argv, {
    focus: focusWindow,
    onDeepLink: (url) => deepLinks.push(url),
    onRejectedLink: (reason) => log.warn(reason),
  });
  if (!isPrimary) return { isPrimary, started: Promise.resolve() };

  app.on('web-contents-created', (_event, contents) => {
    // Applies to every webContents, so no future window, frame or stray contents escapes the policy.
    const guard = (e: NavigationEvent): void => {
      const decision = decideNavigation(e.url);
      if (!decision.allow) {
        e.preventDefault();
        log.warn(decision.reason);
      }
    };
    contents.on('will-navigate', guard);
    contents.on('will-frame-navigate', guard);
    contents.on('will-redirect', guard);
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler((_details: HandlerDetails): WindowOpenHandlerResponse => decideWindowOpen());
  });

  app.on(
    'before-quit',
    createQuitGuard({
      timeoutMs: SHUTDOWN_TIMEOUT_MS,
      shutdown: async () => {
        if (mainWindow && !mainWindow.isDestroyed()) await saveWindowBounds(mainWindow);
        tcp.releaseAll();
        bulk.releaseAll();
        await downloads.releaseAll();
        await relay.stop();
        await settings.flush();
        await pickedFiles.flush();
      },
      quit: () => app.quit(),
      onError: (e) => log.warn('shutdown', e),
    }),
  );
  app.on('window-all-closed', () => {
    if (platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (app.isReady() && mainWindow === null) createWindow();
  });

  const started = app
    .whenReady()
    .then(start)
    .catch((e: unknown) => {
      dialog.showErrorBox('Parley could not start', e instanceof Error ? e.message : String(e));
      app.exit(1);
    });
  return { isPrimary, started };

  async function start(): Promise<void> {
    const loaded = await settings.load();
    if (loaded.problem)
      log.warn(`settings were invalid (${loaded.problem}); kept as ${loaded.movedTo}, using defaults`);
    const picked = await pickedFiles.load();
    if (picked.problem)
      log.warn(`picked files were invalid (${picked.problem}); kept as ${picked.movedTo}, starting empty`);
    bulkSources.restore(picked.files);
    // Reviewed: `parley:` links are invites. They reach the renderer only through parseDeepLink (scheme,
    // length, no control characters; deep-link.test.ts) and the renderer treats them as untrusted input.
    // Registered only in packaged builds so development runs do not rewrite the desktop's handler.
    if (app.isPackaged) app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME); // eng-disable PROTOCOL_HANDLER_JS_CHECK
    const menu = appMenuTemplate(platform);
    Menu.setApplicationMenu(menu === null ? null : Menu.buildFromTemplate(menu));

    hardenSession();
    registerIpc();
    await relay.start(loaded.settings);
    createWindow();
    createTray();
  }

  function hardenSession(): void {
    const ses = session.defaultSession;
    const policy = createPermissionPolicy({
      isAppWebContents: (wc) => isAppWebContents(wc.id),
      onDenied: (permission, reason) => log.warn(`permission ${permission} denied: ${reason}`),
    });
    ses.setPermissionRequestHandler((wc, permission, callback, details) =>
      policy.onRequest(wc, permission, callback, details),
    );
    ses.setPermissionCheckHandler((wc, permission, origin, details) => policy.onCheck(wc, permission, origin, details));
    ses.setDevicePermissionHandler(() => policy.onDevice());
    // Screen sharing is not a Parley feature: refuse getDisplayMedia outright.
    ses.setDisplayMediaRequestHandler((_request, callback) => callback(null));
    // Files are written only through the bridge's download sinks; a page-initiated download is refused.
    ses.on('will-download', (event) => event.preventDefault());
    ses.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: withCspHeader(details.responseHeaders) });
    });

    ses.protocol.handle(APP_SCHEME, async (request) => {
      const result = await resolveAppRequest({ url: request.url, method: request.method }, rendererDir);
      if (result.status !== 200) {
        return new Response(result.error, {
          status: result.status,
          headers: { ...securityHeaders(), 'Content-Type': 'text/plain; charset=utf-8' },
        });
      }
      const body = Readable.toWeb(createReadStream(result.path)) as unknown as ReadableStream<Uint8Array>;
      return new Response(body, { status: 200, headers: { ...securityHeaders(), 'Content-Type': result.mimeType } });
    });
  }

  function registerIpc(): void {
    const ipc = createValidatedIpc({
      ipcMain,
      isAppWebContents: (wc) => isAppWebContents(wc.id),
      onRejected: (channel, reason) => log.warn(`IPC ${channel} refused: ${reason}`),
    });
    const notifications = new NotificationCenter({
      isSupported: () => Notification.isSupported(),
      create: (options) => new Notification(options),
      onClick: (contactId) => {
        focusWindow();
        sendToRenderer(RendererEvent.NotificationClick, contactId ?? null);
      },
      ...(existsSync(windowIcon) ? { icon: windowIcon } : {}),
      markupBody: bodyIsMarkup(platform),
    });
    registerBridgeIpc(ipc, {
      relayUrl: () => relay.url,
      downloadsDir: () => app.getPath('downloads'),
      notify: (request) => notifications.show(request),
      setTrayState: (state) => {
        trayState = state;
        refreshTray();
      },
      openPath: async (path) => {
        const error = await shell.openPath(path);
        if (error) throw new Error(error);
      },
      // Reviewed: the URL reaching this point passed checkExternalUrl in bridge-ipc.ts (https only, no
      // credentials, no local or IP-literal hosts), tested in tests/unit/electron/navigation-policy.test.ts.
      openExternal: (url) => shell.openExternal(url), // eng-disable OPEN_EXTERNAL_JS_CHECK
      takeDeepLinks: () => deepLinks.take(),
    });
    registerDownloadIpc(ipc, downloads, {
      showItemInFolder: (path) => shell.showItemInFolder(path),
      openPath: (path) => shell.openPath(path),
    });
    registerTcpIpc(ipc, tcp);
    registerBulkIpc(ipc, bulk, bulkSources, {
      pickFiles: async (owner) => {
        // The app's window is the only one with the bridge (the IPC layer refuses other senders); one that
        // went meanwhile gets no dialog.
        const win = mainWindow;
        if (win === null || win.isDestroyed() || win.webContents.id !== owner) return [];
        const picked = await dialog.showOpenDialog(win, { properties: ['openFile', 'multiSelections'] });
        return picked.canceled ? [] : picked.filePaths;
      },
    });
  }

  function createWindow(): void {
    const saved = settings.value.window;
    const bounds = restoreBounds(
      saved,
      screen.getAllDisplays().map((d) => d.workArea),
    );
    const win = createAppWindow(BrowserWindow, {
      preloadPath,
      bounds,
      devTools: !app.isPackaged,
      ...(existsSync(windowIcon) ? { icon: windowIcon } : {}),
    });
    mainWindow = win;
    const contentsId = win.webContents.id;
    if (saved?.maximized) win.maximize();
    win.once('ready-to-show', () => win.show());
    win.on('close', () => void saveWindowBounds(win));
    win.on('closed', () => {
      if (mainWindow === win) mainWindow = null;
    });
    win.webContents.on('did-start-navigation', (details) => {
      if (!details.isMainFrame || details.isSameDocument) return;
      // A reload: the old page's open files and its deep-link subscription are gone.
      deepLinks.reset();
      bulk.releaseOwner(contentsId);
      void downloads.releaseOwner(contentsId);
      tcp.releaseOwner(contentsId);
    });
    win.webContents.on('render-process-gone', () => {
      deepLinks.reset();
      bulk.releaseOwner(contentsId);
      void downloads.releaseOwner(contentsId);
      tcp.releaseOwner(contentsId);
    });
    win.webContents.on('destroyed', () => {
      bulk.releaseOwner(contentsId);
      void downloads.releaseOwner(contentsId);
      tcp.releaseOwner(contentsId);
    });
    if (wantsSmokeTest(env.argv)) watchSmokeTest(win);
    void win.loadURL(APP_ENTRY_URL);
  }

  function watchSmokeTest(win: AppWindow): void {
    const done = (outcome: { ok: true; url: string } | { ok: false; reason: string }): void => {
      if (outcome.ok && relay.url !== null) {
        env.out.ok(`parley smoke test: ok (${outcome.url}, embedded relay ${relay.url})`);
        app.quit();
      } else {
        env.out.fail(`parley smoke test: FAILED: ${outcome.ok ? 'the embedded relay is not running' : outcome.reason}`);
        app.exit(1);
      }
    };
    let fail = (reason: string): void => done({ ok: false, reason });
    win.webContents.once('did-finish-load', () => {
      fail = runSmokeTest({
        probe: () => win.webContents.executeJavaScript(MOUNTED_PROBE),
        url: () => win.webContents.getURL(),
        isAppUrl,
        done,
      });
    });
    win.webContents.once('did-fail-load', (_e, code, description) => fail(`load failed: ${code} ${description}`));
    win.webContents.once('render-process-gone', (_e, details) => fail(`renderer gone: ${details.reason}`));
  }

  function saveWindowBounds(win: AppWindow): Promise<void> {
    const b = win.getNormalBounds();
    const maximized = win.isMaximized();
    return settings
      .update((s) => {
        s.window = { x: b.x, y: b.y, width: b.width, height: b.height, maximized };
      })
      .then(
        () => {},
        (e: unknown) => log.warn('could not save window bounds', e),
      );
  }

  function isAppWebContents(id: number): boolean {
    return mainWindow !== null && !mainWindow.isDestroyed() && mainWindow.webContents.id === id;
  }

  function focusWindow(): void {
    if (!app.isReady()) return;
    if (mainWindow === null) {
      createWindow();
      return;
    }
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
  }

  function sendToRenderer(channel: RendererEvent, payload: unknown): void {
    const wc = mainWindow && !mainWindow.isDestroyed() ? mainWindow.webContents : null;
    // Only the app's own page receives events; navigation away is refused, this is the second lock.
    if (wc && isAppUrl(wc.getURL())) wc.send(channel, payload);
  }

  /** A bulk lane's event to the window that owns it (dropped if that window is gone or not the app). */
  function sendBulkEvent(owner: number, event: BulkEventMessage): void {
    const wc = mainWindow && !mainWindow.isDestroyed() ? mainWindow.webContents : null;
    if (wc && wc.id === owner && isAppUrl(wc.getURL())) wc.send(RendererEvent.Bulk, event);
  }

  /** A TCP socket's event to the window that owns it (dropped if that window is gone or not the app). */
  function sendTcpEvent(owner: number, event: TcpEventMessage): void {
    const wc = mainWindow && !mainWindow.isDestroyed() ? mainWindow.webContents : null;
    if (wc && wc.id === owner && isAppUrl(wc.getURL())) wc.send(RendererEvent.Tcp, event);
  }

  function createTray(): void {
    const model = trayModel(trayState, { lanRelay: settings.value.lanRelay, relayUrl: relay.url });
    const image = trayImage(model.icon);
    if (image === null) return;
    try {
      tray = new Tray(image);
    } catch (e) {
      // Some Linux desktops have no status area; the app works without a tray.
      log.warn('no tray', e);
      return;
    }
    tray.on('click', focusWindow);
    refreshTray();
  }

  function refreshTray(): void {
    const model = trayModel(trayState, { lanRelay: settings.value.lanRelay, relayUrl: relay.url });
    app.setBadgeCount(model.badgeCount);
    if (tray === null || tray.isDestroyed()) return;
    const image = trayImage(model.icon);
    if (image) tray.setImage(image);
    tray.setToolTip(model.tooltip);
    if (platform === 'darwin') tray.setTitle(model.title);
    tray.setContextMenu(Menu.buildFromTemplate(model.menu.map(toMenuItem)));
  }

  function trayImage(name: string): Image | null {
    const path = join(trayIconDir, `${name}.png`);
    if (!existsSync(path)) return null;
    const image = nativeImage.createFromPath(path);
    return image.isEmpty() ? null : image;
  }

  function toMenuItem(item: TrayMenuItem): MenuItemConstructorOptions {
    switch (item.type) {
      case 'separator':
        return { type: 'separator' };
      case 'label':
        return { label: item.label, enabled: false };
      case 'checkbox':
        return { type: 'checkbox', label: item.label, checked: item.checked, click: () => runTrayAction(item.action) };
      case 'normal':
        return { label: item.label, enabled: item.enabled ?? true, click: () => runTrayAction(item.action) };
    }
  }

  function runTrayAction(action: TrayAction): void {
    switch (action) {
      case 'show':
        focusWindow();
        return;
      case 'open-downloads':
        void shell.openPath(app.getPath('downloads'));
        return;
      case 'toggle-lan-relay':
        void toggleLanRelay().catch((e: unknown) => log.warn('could not change the relay setting', e));
        return;
      case 'quit':
        app.quit();
        return;
    }
  }

  async function toggleLanRelay(): Promise<void> {
    const next = await settings.update((s) => {
      s.lanRelay = !s.lanRelay;
    });
    await relay.start(next);
    // The relay restarted on another address: reload so the renderer reconnects and its invite names the
    // new URL (the bridge has no relay-changed event; open files are kept as partials and resume).
    if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.reload();
  }
}
