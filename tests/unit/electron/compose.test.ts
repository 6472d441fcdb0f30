// The desktop shell, run as far as it can run without the Electron binary: composeMainProcess() (all of
// what electron/main/index.ts does) against a recording fake of Electron typed from Electron's own types,
// with the real pure modules, the real embedded relay on loopback, the real built renderer, the real
// preload bridge module, real files. And a check that index.ts does nothing but hand the real module over.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, type NetworkInterfaceInfo } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createInvite, parseInvite } from '../../../core/src/identity/invite.js';
import { generateIdentityKeyPair } from '../../../core/src/identity/keys.js';
import { APP_ENTRY_URL } from '../../../electron/main/app-origin.js';
import { CONTENT_SECURITY_POLICY } from '../../../electron/main/csp.js';
import { composeMainProcess, type MainProcess, type MainProcessEnv } from '../../../electron/main/compose.js';
import { MOUNTED_PROBE } from '../../../electron/main/smoke-test.js';
import { createElectronBridge } from '../../../electron/preload/bridge.js';
import { RendererEvent } from '../../../electron/shared/ipc-contract.js';
import { nodeTcp } from '../../../platform/node/src/tcp/index.js';
import { FileDigest } from '../../../core/src/transfer/hash.js';
import { silentLogger, startRelay } from '../../../signaling/server/index.js';
import { fakeElectron, type FakeElectron } from './compose-fake.js';

const root = resolve(import.meta.dirname, '..', '..', '..');

/**
 * dist/ with a built renderer: the repository's when `npm run build:renderer` ran (npm test builds it
 * before the unit stage), else a fresh production build into a temporary folder.
 */
async function distWithRenderer(tmp: string): Promise<string> {
  if (existsSync(join(root, 'dist', 'renderer', 'index.html'))) return join(root, 'dist');
  const dist = join(tmp, 'dist');
  await new Promise<void>((done, fail) => {
    execFile(
      process.execPath,
      [
        join(root, 'node_modules/vite/bin/vite.js'),
        'build',
        '--config',
        'renderer/vite.config.ts',
        '--outDir',
        join(dist, 'renderer'),
        '--emptyOutDir',
        '--logLevel',
        'warn',
      ],
      // Under vitest NODE_ENV is 'test'; the app ships a production build.
      { cwd: root, env: { ...process.env, NODE_ENV: 'production' }, maxBuffer: 16 * 1024 * 1024 },
      (err, _stdout, stderr) => (err ? fail(new Error(`renderer build failed: ${stderr || err.message}`)) : done()),
    );
  });
  return dist;
}

interface Shell {
  fake: FakeElectron;
  main: MainProcess;
  env: MainProcessEnv;
  logs: string[];
  out: string[];
  paths: { userData: string; downloads: string };
  /** Settles when the embedded relay reported 'stopped'. */
  relayStopped: Promise<void>;
  /** The handlers main registered for unhandled rejections. */
  unhandled: Array<(reason: unknown) => void>;
}

function compose(
  tmp: string,
  distDir: string,
  name: string,
  options: { argv?: string[]; lock?: boolean; interfaces?: MainProcessEnv['networkInterfaces'] } = {},
): Shell {
  const paths = { userData: join(tmp, name, 'userData'), downloads: join(tmp, name, 'Downloads') };
  mkdirSync(paths.userData, { recursive: true });
  mkdirSync(paths.downloads, { recursive: true });
  // Port 0: tests must not fight over the default relay port.
  writeFileSync(join(paths.userData, 'settings.json'), JSON.stringify({ version: 1, lanRelay: false, relayPort: 0 }));
  const fake = fakeElectron({ paths, ...(options.lock !== undefined ? { lock: options.lock } : {}) });
  const logs: string[] = [];
  const out: string[] = [];
  const unhandled: Array<(reason: unknown) => void> = [];
  let markStopped!: () => void;
  const relayStopped = new Promise<void>((resolve) => (markStopped = resolve));
  const env: MainProcessEnv = {
    argv: options.argv ?? ['/opt/Parley/parley'],
    platform: 'linux',
    distDir,
    appRoot: root,
    networkInterfaces: options.interfaces ?? (() => ({})),
    startRelay: (o) => startRelay({ ...o, logger: silentLogger }),
    log: {
      info: (m) => {
        logs.push(`info ${m}`);
        if (m === 'embedded relay stopped') markStopped();
      },
      warn: (m) => void logs.push(`warn ${m}`),
    },
    out: { ok: (l) => void out.push(l), fail: (l) => void out.push(l) },
    onUnhandledRejection: (handler) => void unhandled.push(handler),
  };
  const main = composeMainProcess(fake.electron, env);
  return { fake, main, env, logs, out, paths, relayStopped, unhandled };
}

/** The real preload bridge module, wired as preload/index.ts wires it, with IPC going to the fake's main side. */
function preloadBridge(fake: FakeElectron, contents = fake.windows[0]!.webContents) {
  return createElectronBridge({
    invoke: (channel, ...args) =>
      fake.ipcMain.invoke({ sender: contents, senderFrame: contents.mainFrame }, channel, ...args),
    on(channel, listener) {
      let set = contents.rendererListeners.get(channel);
      if (!set) contents.rendererListeners.set(channel, (set = new Set()));
      set.add(listener);
      return () => void set.delete(listener);
    },
  });
}

function connects(url: string): Promise<boolean> {
  return new Promise((done) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      done(true);
    });
    ws.once('error', () => done(false));
  });
}

const tick = () => new Promise<void>((r) => setImmediate(r));

let tmp: string;
let distDir: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'parley-compose-'));
  distDir = await distWithRenderer(tmp);
}, 240_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('the main process composition, start to quit', () => {
  let shell: Shell;
  let inviteAtLaunch: string;
  let bridge: ReturnType<typeof preloadBridge>;
  let relayUrl: string;

  beforeAll(async () => {
    const me = await generateIdentityKeyPair({ extractable: false });
    inviteAtLaunch = createInvite({ publicKey: me.publicKey, name: 'Ada', relays: ['ws://127.0.0.1:47913/ws'] });
    shell = compose(tmp, distDir, 'main', { argv: ['/opt/Parley/parley', inviteAtLaunch] });
  });

  it('before ready: registers app:// as a privileged scheme, enables the sandbox, takes the single-instance lock, makes no window', () => {
    const names = shell.fake.names();
    expect(names.slice(0, 3)).toEqual([
      'protocol.registerSchemesAsPrivileged',
      'app.enableSandbox',
      'app.requestSingleInstanceLock',
    ]);
    expect(shell.fake.calls[0]![1]).toEqual([
      { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
    ]);
    expect(shell.main.isPrimary).toBe(true);
    expect(names).toContain('app.whenReady');
    expect(names).not.toContain('new BrowserWindow');
    expect(shell.fake.app.count('second-instance')).toBe(1);
    expect(shell.fake.app.count('before-quit')).toBe(1);
  });

  it('a rejection nothing handled in main is logged as a warning, not raised (no error dialog)', () => {
    expect(shell.unhandled).toHaveLength(1);
    expect(() => shell.unhandled[0]!(new Error('lane socket reset'))).not.toThrow();
    expect(shell.logs).toContain('warn unhandled rejection in the main process (continuing)');
  });

  it('on ready: hardens the session, starts the embedded relay, opens one window with the secure preferences', async () => {
    shell.fake.ready();
    await shell.main.started;
    const names = shell.fake.names();
    // Session policy and IPC exist before the window (and its page) does.
    expect(names.indexOf('session.protocol.handle')).toBeLessThan(names.indexOf('new BrowserWindow'));
    expect(names.indexOf('session.setPermissionRequestHandler')).toBeLessThan(names.indexOf('new BrowserWindow'));
    expect(names.indexOf('app.setAsDefaultProtocolClient')).toBeGreaterThan(names.indexOf('ready'));
    expect(shell.fake.ipcMain.handlers.size).toBeGreaterThan(5);
    expect(shell.fake.windows).toHaveLength(1);
    const win = shell.fake.windows[0]!;
    expect(win.options.webPreferences).toMatchObject({
      preload: join(distDir, 'electron', 'preload', 'index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      devTools: false, // a packaged build
    });
    expect(win.options.show).toBe(false);
    // The window loaded the app's entry through the app:// handler and was shown when ready.
    expect(names).toContain(`window.loadURL`);
    expect(shell.fake.calls.find(([w]) => w === 'window.loadURL')![1]).toBe(APP_ENTRY_URL);
    expect(await win.loaded).toBe(200);
    expect(win.visible).toBe(true);
    expect(shell.fake.trays).toHaveLength(1);
    expect(shell.logs.some((l) => l.startsWith('info embedded relay running'))).toBe(true);
  });

  it('every webContents gets the navigation policy: the app may not be navigated away or open windows', () => {
    const contents = shell.fake.windows[0]!.webContents;
    expect(contents.tryNavigate('https://evil.example/')).toBe(true);
    expect(contents.tryNavigate('app://parley/index.html')).toBe(false);
    expect(contents.windowOpenHandler?.({ url: 'https://evil.example/' } as never)).toEqual({ action: 'deny' });
  });

  it('the app:// handler serves the real built renderer with the security headers, and nothing outside it', async () => {
    const handler = shell.fake.session.handlers.get('app')!;
    const index = await handler(new Request(APP_ENTRY_URL));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await index.text();
    expect(html).toContain('<div id="app"></div>');
    const script = /<script[^>]+src="\.\/([^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeTruthy();
    expect(readFileSync(join(distDir, 'renderer', script!), 'utf8').length).toBeGreaterThan(1000);
    const js = await handler(new Request(`app://parley/${script}`));
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toBe(readFileSync(join(distDir, 'renderer', script!), 'utf8'));
    const outside = await handler(new Request('app://parley/..%2F..%2Fpackage.json'));
    expect(outside.status).toBeGreaterThanOrEqual(400);
    expect(await outside.text()).not.toContain('"name"');
    expect((await handler(new Request('app://parley/no-such-file.js'))).status).toBe(404);
  });

  it('IPC round trips from the real preload bridge reach the real handlers', async () => {
    bridge = preloadBridge(shell.fake);
    expect(bridge.platform).toBe('electron');
    relayUrl = (await bridge.embeddedRelayUrl())!;
    expect(relayUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\//);
    expect(await connects(relayUrl)).toBe(true);

    // Notifications: validated, escaped for libnotify on Linux, a click focuses the window and names the contact.
    const contactId = 'A'.repeat(43);
    const clicks: (string | undefined)[] = [];
    bridge.onNotificationClick((id) => clicks.push(id));
    await bridge.notify({ kind: 'message', title: 'Bob', body: '<b>hi</b> & bye', contactId });
    const n = shell.fake.notifications.at(-1)!;
    expect(n.shown).toBe(true);
    expect(n.options.body).toBe('&lt;b&gt;hi&lt;/b&gt; &amp; bye');
    shell.fake.windows[0]!.focused = false;
    n.emit('click');
    expect(shell.fake.windows[0]!.focused).toBe(true);
    expect(clicks).toEqual([contactId]);
    await expect(bridge.notify({ kind: 'message', title: '', body: 'x' })).rejects.toThrow();

    // Tray state reaches the tray and the launcher badge.
    bridge.setTrayState({ presence: 'online', unread: 3 });
    await tick();
    await tick();
    expect(shell.fake.trays[0]!.tooltip).toBe('Parley — Online, 3 unread messages');
    expect(shell.fake.app.badgeCount).toBe(3);

    // External links: https only, through the shell; anything else is refused before it.
    await bridge.openExternal('https://example.org/help');
    await expect(bridge.openExternal('file:///etc/passwd')).rejects.toThrow(/refused/);
    expect(shell.fake.calls.filter(([w]) => w === 'shell.openExternal')).toEqual([
      ['shell.openExternal', 'https://example.org/help'],
    ]);

    // A received file is written through the download sinks into <Downloads>/Parley.
    const downloads = bridge.downloads!;
    expect(downloads).toBeDefined();
    const { handle, existingBytes } = await downloads.open('notes/hello.txt', 'k1');
    expect(existingBytes).toBe(0);
    await downloads.write(handle, new TextEncoder().encode('hello from a peer'));
    const saved = await downloads.commit(handle);
    expect(readFileSync(join(shell.paths.downloads, 'Parley', saved), 'utf8')).toBe('hello from a peer');
    await bridge.openDownloads();
    expect(shell.fake.calls.at(-1)).toEqual(['shell.openPath', shell.paths.downloads]);
  });

  it('IPC from anything but the app window is refused', async () => {
    new shell.fake.electron.BrowserWindow({});
    const foreign = preloadBridge(shell.fake, shell.fake.windows.at(-1)!.webContents);
    await expect(foreign.embeddedRelayUrl()).rejects.toThrow(/sender/);
    expect(shell.logs.some((l) => /^warn IPC parley:relay-url refused: sender/.test(l))).toBe(true);
    shell.fake.windows.pop();
  });

  it('deep links open an invite: the one the app was launched with, then one from a second launch', async () => {
    const links: string[] = [];
    bridge.onDeepLink((url) => links.push(url));
    await tick();
    await tick();
    expect(links).toEqual([inviteAtLaunch]);
    expect((await parseInvite(links[0]!)).name).toBe('Ada');

    const other = await generateIdentityKeyPair({ extractable: false });
    const invite = createInvite({ publicKey: other.publicKey, name: 'Bob', relays: [relayUrl] });
    const win = shell.fake.windows[0]!;
    win.focused = false;
    win.minimized = true;
    shell.fake.app.emit('second-instance', {}, ['/opt/Parley/parley', invite], '/home/ada');
    expect(win.focused).toBe(true);
    expect(win.minimized).toBe(false);
    expect(links).toEqual([inviteAtLaunch, invite]);
    const parsed = await parseInvite(links[1]!);
    expect(parsed.name).toBe('Bob');
    expect(parsed.relays).toEqual([relayUrl]);
    // Something that is not a parley: link never reaches the renderer.
    shell.fake.app.emit('second-instance', {}, ['/opt/Parley/parley', 'https://evil.example/'], '/');
    expect(links).toHaveLength(2);
  });

  it('quit waits for the shutdown: window bounds saved, the embedded relay closed, then the app exits', async () => {
    shell.fake.app.quit();
    await shell.fake.quitted;
    expect(shell.fake.exitCode).toBeNull();
    expect(shell.fake.names().filter((w) => w === 'app.quit')).toHaveLength(2);
    expect(shell.logs).toContain('info embedded relay stopped');
    expect(await connects(relayUrl)).toBe(false);
    const settings = JSON.parse(readFileSync(join(shell.paths.userData, 'settings.json'), 'utf8'));
    expect(settings.window).toMatchObject({ x: 40, y: 30, maximized: false });
  });
});

describe('the main process composition, other starts', () => {
  it('a second instance hands over and quits: no window, no relay, no IPC', async () => {
    const shell = compose(tmp, distDir, 'second', { lock: false });
    expect(shell.main.isPrimary).toBe(false);
    expect(shell.fake.names()).toContain('app.quit');
    shell.fake.ready();
    await shell.main.started;
    await tick();
    expect(shell.fake.windows).toHaveLength(0);
    expect(shell.fake.ipcMain.handlers.size).toBe(0);
    expect(shell.logs.some((l) => l.includes('embedded relay'))).toBe(false);
  });

  it('--smoke-test: once the UI has mounted and the relay runs, it prints ok and quits through the normal quit', async () => {
    const shell = compose(tmp, distDir, 'smoke', { argv: ['/opt/Parley/parley', '--smoke-test'] });
    shell.fake.ready();
    await shell.main.started;
    await shell.fake.quitted;
    expect(shell.fake.calls.find(([w]) => w === 'webContents.executeJavaScript')?.[1]).toBe(MOUNTED_PROBE);
    expect(shell.out).toHaveLength(1);
    expect(shell.out[0]).toMatch(
      /^parley smoke test: ok \(app:\/\/parley\/index\.html, embedded relay ws:\/\/127\.0\.0\.1:\d+\/.*\)$/,
    );
    expect(shell.fake.exitCode).toBeNull();
    expect(shell.logs).toContain('info embedded relay stopped');
  });

  it('--smoke-test fails with exit 1 when the page cannot load', async () => {
    const shell = compose(tmp, join(tmp, 'no-such-dist'), 'smoke-fail', {
      argv: ['/opt/Parley/parley', '--smoke-test'],
    });
    shell.fake.ready();
    await shell.main.started;
    await shell.fake.quitted;
    expect(shell.fake.exitCode).toBe(1);
    expect(shell.out).toEqual(['parley smoke test: FAILED: load failed: -6 HTTP 404']);
    // app.exit() skips 'before-quit' in Electron (the process just ends); here the test process lives on,
    // so run the shutdown by hand to close the relay it started.
    shell.fake.app.emit('before-quit', { preventDefault: () => {} });
    await shell.relayStopped;
  });
});

describe('the main process composition, the direct TCP path', () => {
  it("main listens where the interfaces say, the socket's records reach the window, a reload drops it all", async () => {
    // Loopback reported as a LAN interface: the test listens nowhere but on loopback.
    const lan = { address: '127.0.0.1', family: 'IPv4', internal: false } as NetworkInterfaceInfo;
    const shell = compose(tmp, distDir, 'tcp', { interfaces: () => ({ eth0: [lan] }) });
    shell.fake.ready();
    await shell.main.started;
    const win = shell.fake.windows[0]!;
    await win.loaded;
    const tcp = preloadBridge(shell.fake).tcp!;
    const { hints } = await tcp.listen();
    expect(hints).toEqual([{ host: '127.0.0.1', port: expect.any(Number) as number }]);
    const peer = nodeTcp({ addresses: () => ['127.0.0.1'] });
    const accepted = new Promise<string>((resolve) =>
      tcp.onEvent((e) => {
        if (e.kind === 'accept') resolve(e.socket);
      }),
    );
    const theirs = await peer.connect(hints, 3000);
    const socket = await accepted;
    const frame = new Promise<Uint8Array>((resolve) =>
      tcp.onEvent((e) => {
        if (e.kind === 'frame' && e.socket === socket) resolve(e.data);
      }),
    );
    await tcp.start(socket);
    theirs.send(new Uint8Array([1, 2, 3]));
    expect(await frame).toEqual(new Uint8Array([1, 2, 3]));
    expect(win.webContents.sent.some(([channel]) => channel === RendererEvent.Tcp)).toBe(true);

    // A reload: main closes the page's connection and its listener.
    const peerSaw = new Promise<string>((resolve) => theirs.onClose(resolve));
    win.webContents.emit('did-start-navigation', { isMainFrame: true, isSameDocument: false });
    await peerSaw;
    await expect(peer.connect(hints, 3000)).rejects.toThrow(/refused/);
    shell.fake.app.quit();
    await shell.fake.quitted;
  });
});

describe('the main process composition, bulk lanes', () => {
  it('main listens for a lane where the interfaces say into an open download; its picker cancels; a reload ends it', async () => {
    const lan = { address: '127.0.0.1', family: 'IPv4', internal: false } as NetworkInterfaceInfo;
    const shell = compose(tmp, distDir, 'bulk', { interfaces: () => ({ eth0: [lan] }) });
    shell.fake.ready();
    await shell.main.started;
    const win = shell.fake.windows[0]!;
    await win.loaded;
    const bridge = preloadBridge(shell.fake);
    // The dialog is main's own, attached to the window that asked (modal to it); the fake's user cancels it.
    expect(await bridge.bulk!.pick()).toEqual([]);
    const dialogs = shell.fake.calls.filter(([w]) => w === 'dialog.showOpenDialog');
    expect(dialogs).toHaveLength(1);
    expect(dialogs[0]![1]).toBe(win);
    expect(dialogs[0]![2]).toEqual({ properties: ['openFile', 'multiSelections'] });
    const { handle } = await bridge.downloads!.open('lane.bin', 'k1');
    const { hints } = await bridge.bulk!.receive({
      handle,
      key: new Uint8Array(32).fill(7),
      size: 10,
      from: 0,
      digestFrom: await FileDigest.origin(),
    });
    expect(hints).toEqual([{ host: '127.0.0.1', port: expect.any(Number) as number }]);
    const peer = nodeTcp({ addresses: () => ['127.0.0.1'] });
    (await peer.connect(hints, 3000)).close();
    // A reload: main ends the page's lanes; nobody listens there any more.
    win.webContents.emit('did-start-navigation', { isMainFrame: true, isSameDocument: false });
    await expect(peer.connect(hints, 3000)).rejects.toThrow(/refused/);
    shell.fake.app.quit();
    await shell.fake.quitted;
  });
});

describe('electron/main/index.ts', () => {
  it('does nothing but call composeMainProcess with the real electron module', () => {
    const path = join(root, 'electron/main/index.ts');
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const shape = source.statements.map((s) => {
      if (ts.isImportDeclaration(s)) {
        const clause = s.importClause;
        const from = (s.moduleSpecifier as ts.StringLiteral).text;
        if (clause?.namedBindings && ts.isNamespaceImport(clause.namedBindings) && !clause.name && !clause.isTypeOnly) {
          return `import * as ${clause.namedBindings.name.text} from '${from}'`;
        }
        if (clause?.namedBindings && ts.isNamedImports(clause.namedBindings) && !clause.name && !clause.isTypeOnly) {
          return `import { ${clause.namedBindings.elements.map((e) => (e.propertyName ? `${e.propertyName.text} as ${e.name.text}` : e.name.text)).join(', ')} } from '${from}'`;
        }
        return `other import: ${s.getText()}`;
      }
      if (ts.isExpressionStatement(s) && ts.isCallExpression(s.expression)) {
        const call = s.expression;
        return `call ${call.expression.getText()}(${call.arguments.map((a) => (ts.isIdentifier(a) ? a.text : `<${ts.SyntaxKind[a.kind]}>`)).join(', ')})`;
      }
      return `other statement: ${s.getText()}`;
    });
    expect(shape).toEqual([
      "import * as electron from 'electron'",
      "import { composeMainProcess } from './compose.js'",
      'call composeMainProcess(electron)',
    ]);
  });
});
