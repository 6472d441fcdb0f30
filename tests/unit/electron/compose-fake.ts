// A recording fake of the part of the `electron` module composeMainProcess() uses. It is typed as
// ElectronMain, whose members are Electron's own types (compose.ts), so its shape cannot drift from
// Electron's. It behaves as Electron does where the composition depends on it: app.quit() emits a
// preventable 'before-quit', a new BrowserWindow emits 'web-contents-created', loadURL() loads through the
// registered app:// handler, webContents.send() reaches the preload's listeners.
import type {
  BrowserWindowConstructorOptions,
  CustomScheme,
  HandlerDetails,
  MenuItemConstructorOptions,
  NotificationConstructorOptions,
  Rectangle,
  Session,
  WindowOpenHandlerResponse,
} from 'electron';
import { existsSync } from 'node:fs';
import type {
  AppApi,
  AppSession,
  AppTray,
  AppWebContents,
  AppWindow,
  ElectronMain,
} from '../../../electron/main/compose.js';
import type { NotificationLike } from '../../../electron/main/notifications.js';
import { FakeFrame, FakeIpcMain } from './fakes.js';

type Listener = (...args: any[]) => unknown;

class Emitter {
  readonly listeners = new Map<string, { fn: Listener; once: boolean }[]>();
  on(event: string, fn: Listener): this {
    this.list(event).push({ fn, once: false });
    return this;
  }
  once(event: string, fn: Listener): this {
    this.list(event).push({ fn, once: true });
    return this;
  }
  emit(event: string, ...args: unknown[]): number {
    const list = this.list(event);
    const now = [...list];
    this.listeners.set(
      event,
      list.filter((l) => !l.once),
    );
    for (const l of now) l.fn(...args);
    return now.length;
  }
  count(event: string): number {
    return this.list(event).length;
  }
  list(event: string): { fn: Listener; once: boolean }[] {
    let list = this.listeners.get(event);
    if (!list) this.listeners.set(event, (list = []));
    return list;
  }
}

export class FakeMenu {
  constructor(readonly template: MenuItemConstructorOptions[]) {}
}

export class FakeImage {
  constructor(readonly path: string) {}
  isEmpty(): boolean {
    return !existsSync(this.path);
  }
}

export type Call = [what: string, ...args: unknown[]];

export interface FakeElectronOptions {
  paths: { userData: string; downloads: string };
  /** What requestSingleInstanceLock() answers. */
  lock?: boolean;
  isPackaged?: boolean;
}

/** The recording fake and the handles a test drives it with. */
export function fakeElectron(options: FakeElectronOptions) {
  /** Every call into the fake, in order. */
  const calls: Call[] = [];
  const record = (what: string, ...args: unknown[]): void => void calls.push([what, ...args]);
  const windows: FakeWindow[] = [];
  const notifications: FakeNotification[] = [];
  const trays: FakeTray[] = [];
  const ipcMain = new FakeIpcMain();
  let nextContentsId = 1;
  let ready = false;
  let markReady!: () => void;
  const whenReady = new Promise<void>((resolve) => (markReady = resolve));
  let quitted = false;
  let markQuitted!: () => void;
  const quittedPromise = new Promise<void>((resolve) => (markQuitted = resolve));
  let exitCode: number | null = null;

  class FakeApp extends Emitter implements AppApi {
    readonly isPackaged = options.isPackaged ?? true;
    badgeCount = 0;
    enableSandbox(): void {
      record('app.enableSandbox');
    }
    setAppUserModelId(id: string): void {
      record('app.setAppUserModelId', id);
    }
    getPath(name: string): string {
      if (name === 'userData' || name === 'downloads') return options.paths[name];
      throw new Error(`the fake has no path "${name}"`);
    }
    requestSingleInstanceLock(): boolean {
      record('app.requestSingleInstanceLock');
      return options.lock ?? true;
    }
    /** As Electron: 'before-quit' first; a listener that prevents it cancels this quit. */
    quit(): void {
      record('app.quit');
      if (quitted) return;
      let prevented = false;
      this.emit('before-quit', { preventDefault: () => void (prevented = true) });
      if (prevented) return;
      quitted = true;
      markQuitted();
    }
    exit(code = 0): void {
      record('app.exit', code);
      exitCode = code;
      quitted = true;
      markQuitted();
    }
    whenReady(): Promise<void> {
      record('app.whenReady');
      return whenReady;
    }
    isReady(): boolean {
      return ready;
    }
    setAsDefaultProtocolClient(protocol: string): boolean {
      record('app.setAsDefaultProtocolClient', protocol);
      return true;
    }
    setBadgeCount(count?: number): boolean {
      this.badgeCount = count ?? 0;
      return true;
    }
  }
  const app = new FakeApp();

  class FakeWebContents extends Emitter implements AppWebContents {
    readonly id = nextContentsId++;
    url = '';
    readonly mainFrame = new FakeFrame('', null, 100 + this.id, 1);
    windowOpenHandler: ((details: HandlerDetails) => WindowOpenHandlerResponse) | null = null;
    /** Listeners the preload registered with ipcRenderer.on, by channel. */
    readonly rendererListeners = new Map<string, Set<(...args: unknown[]) => void>>();
    /** What executeJavaScript() answers (the smoke test's probe). */
    probeAnswer: unknown = true;
    /** Everything sent to the renderer. */
    readonly sent: [string, unknown[]][] = [];
    destroyed = false;
    send(channel: string, ...args: unknown[]): void {
      this.sent.push([channel, args]);
      // As Electron's IPC: the payload is cloned on the way.
      for (const l of this.rendererListeners.get(channel) ?? []) l(...structuredClone(args));
    }
    getURL(): string {
      return this.url;
    }
    reload(): void {
      record('webContents.reload', this.id);
    }
    async executeJavaScript(code: string): Promise<unknown> {
      record('webContents.executeJavaScript', code);
      return this.probeAnswer;
    }
    setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void {
      this.windowOpenHandler = handler;
    }
    /** A frame navigation as Electron reports it to will-navigate listeners; true when prevented. */
    tryNavigate(url: string): boolean {
      let prevented = false;
      this.emit('will-navigate', { url, preventDefault: () => void (prevented = true) });
      return prevented;
    }
  }

  class FakeWindow extends Emitter implements AppWindow {
    readonly webContents = new FakeWebContents();
    visible = false;
    focused = false;
    minimized = false;
    maximized = false;
    destroyed = false;
    /** The status of the app:// response loadURL() got. */
    loadStatus: number | null = null;
    markLoaded!: (status: number | null) => void;
    /** Settles when loadURL() finished (with the response status; null when no handler answered). */
    readonly loaded = new Promise<number | null>((resolve) => (this.markLoaded = resolve));
    constructor(readonly options: BrowserWindowConstructorOptions) {
      super();
      record('new BrowserWindow');
      windows.push(this);
      app.emit('web-contents-created', {}, this.webContents);
    }
    show(): void {
      this.visible = true;
    }
    focus(): void {
      this.focused = true;
    }
    maximize(): void {
      this.maximized = true;
    }
    restore(): void {
      this.minimized = false;
    }
    isDestroyed(): boolean {
      return this.destroyed;
    }
    isMinimized(): boolean {
      return this.minimized;
    }
    isMaximized(): boolean {
      return this.maximized;
    }
    getNormalBounds(): Rectangle {
      return { x: 40, y: 30, width: this.options.width ?? 0, height: this.options.height ?? 0 };
    }
    /** Loads through the handler registered for the URL's scheme, as Chromium would, then reports. */
    async loadURL(url: string): Promise<void> {
      try {
        await this.load(url);
      } finally {
        this.markLoaded(this.loadStatus);
      }
    }
    async load(url: string): Promise<void> {
      record('window.loadURL', url);
      const scheme = new URL(url).protocol.slice(0, -1);
      const handler = session.defaultSession.handlers.get(scheme);
      this.webContents.emit('did-start-navigation', { isMainFrame: true, isSameDocument: false, url });
      if (!handler) {
        this.webContents.emit('did-fail-load', {}, -301, 'ERR_UNKNOWN_URL_SCHEME');
        return;
      }
      const response = await handler(new Request(url));
      this.loadStatus = response.status;
      await response.arrayBuffer();
      if (!response.ok) {
        this.webContents.emit('did-fail-load', {}, -6, `HTTP ${response.status}`);
        return;
      }
      this.webContents.url = url;
      this.webContents.mainFrame.url = url;
      this.emit('ready-to-show');
      this.webContents.emit('did-finish-load');
    }
    /** The user closes the window. */
    close(): void {
      this.emit('close');
      this.destroyed = true;
      this.webContents.destroyed = true;
      this.emit('closed');
      this.webContents.emit('destroyed');
      if (windows.every((w) => w.destroyed)) app.emit('window-all-closed');
    }
  }

  class FakeNotification extends Emitter implements NotificationLike {
    static isSupported(): boolean {
      return true;
    }
    shown = false;
    constructor(readonly options: NotificationConstructorOptions) {
      super();
      notifications.push(this);
    }
    show(): void {
      this.shown = true;
    }
  }

  class FakeTray extends Emitter implements AppTray<FakeMenu, FakeImage> {
    tooltip = '';
    title = '';
    menu: FakeMenu | null = null;
    constructor(public image: FakeImage) {
      super();
      record('new Tray', image.path);
      trays.push(this);
    }
    isDestroyed(): boolean {
      return false;
    }
    setImage(image: FakeImage): void {
      this.image = image;
    }
    setToolTip(toolTip: string): void {
      this.tooltip = toolTip;
    }
    setTitle(title: string): void {
      this.title = title;
    }
    setContextMenu(menu: FakeMenu | null): void {
      this.menu = menu;
    }
  }

  type SessionHandler<K extends keyof Session> = Session[K] extends (handler: infer H, ...rest: never[]) => unknown
    ? H
    : never;
  class FakeSession extends Emitter implements AppSession {
    readonly handlers = new Map<string, (request: Request) => Response | Promise<Response>>();
    permissionRequest: SessionHandler<'setPermissionRequestHandler'> = null;
    permissionCheck: SessionHandler<'setPermissionCheckHandler'> = null;
    devicePermission: SessionHandler<'setDevicePermissionHandler'> = null;
    displayMedia: SessionHandler<'setDisplayMediaRequestHandler'> = null;
    headersReceived:
      | ((
          details: { responseHeaders?: Record<string, string[]> },
          callback: (r: { responseHeaders?: Record<string, string[]> }) => void,
        ) => void)
      | null = null;
    setPermissionRequestHandler(handler: SessionHandler<'setPermissionRequestHandler'>): void {
      record('session.setPermissionRequestHandler');
      this.permissionRequest = handler;
    }
    setPermissionCheckHandler(handler: SessionHandler<'setPermissionCheckHandler'>): void {
      record('session.setPermissionCheckHandler');
      this.permissionCheck = handler;
    }
    setDevicePermissionHandler(handler: SessionHandler<'setDevicePermissionHandler'>): void {
      record('session.setDevicePermissionHandler');
      this.devicePermission = handler;
    }
    setDisplayMediaRequestHandler(handler: SessionHandler<'setDisplayMediaRequestHandler'>): void {
      record('session.setDisplayMediaRequestHandler');
      this.displayMedia = handler;
    }
    readonly webRequest = {
      onHeadersReceived: (...args: unknown[]): void => {
        record('session.webRequest.onHeadersReceived');
        this.headersReceived = args.at(-1) as FakeSession['headersReceived'];
      },
    };
    readonly protocol = {
      handle: (scheme: string, handler: (request: Request) => Response | Promise<Response>): void => {
        record('session.protocol.handle', scheme);
        this.handlers.set(scheme, handler);
      },
    };
  }
  const session = { defaultSession: new FakeSession() };

  const electron: ElectronMain<FakeMenu, FakeImage, FakeWindow> = {
    app,
    BrowserWindow: FakeWindow,
    dialog: {
      showErrorBox: (title: string, content: string) => record('dialog.showErrorBox', title, content),
      // The bulk lanes' file picker: the user cancels.
      showOpenDialog: (async (...args: unknown[]) => {
        record('dialog.showOpenDialog', ...args);
        return { canceled: true, filePaths: [] };
      }) as ElectronMain<FakeMenu, FakeImage, FakeWindow>['dialog']['showOpenDialog'],
    },
    ipcMain,
    Menu: {
      buildFromTemplate: (template) => new FakeMenu(template),
      setApplicationMenu: (menu) => record('Menu.setApplicationMenu', menu),
    },
    nativeImage: { createFromPath: (path) => new FakeImage(path) },
    Notification: FakeNotification,
    protocol: {
      registerSchemesAsPrivileged: (schemes: CustomScheme[]) => record('protocol.registerSchemesAsPrivileged', schemes),
    },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    session,
    shell: {
      openPath: async (path: string) => {
        record('shell.openPath', path);
        return '';
      },
      openExternal: async (url: string) => void record('shell.openExternal', url),
      showItemInFolder: (path: string) => record('shell.showItemInFolder', path),
    },
    Tray: FakeTray,
  };

  return {
    electron,
    calls,
    app,
    ipcMain,
    session: session.defaultSession,
    windows,
    notifications,
    trays,
    /** Electron's 'ready'. */
    ready(): void {
      record('ready');
      ready = true;
      markReady();
    },
    /** Settles once the process would exit (quit let through, or exit()). */
    quitted: quittedPromise,
    get exitCode(): number | null {
      return exitCode;
    },
    names: () => calls.map(([what]) => what),
  };
}

export type FakeElectron = ReturnType<typeof fakeElectron>;
