// Test-side handles of the call peer and relay host scripts running inside test-bed hosts.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { callPageScript, SIMPLE_PEER_BROWSER_BUNDLE } from '../../../e2e/call-pages/bundle.js';
import { Inbox, type Host, type NodeProcess } from '../../../testbed/index.js';
import type { WatchGrant } from '../../../../signaling/protocol/index.js';
import type {
  CallPeerCommand,
  CallPeerEvent,
  CallPeerEventOf,
  MediaReport,
  RelayHostArgs,
  RelayHostEvent,
} from './protocol.js';

const CALL_PEER_SCRIPT = fileURLToPath(new URL('./call-peer.ts', import.meta.url));
const RELAY_HOST_SCRIPT = fileURLToPath(new URL('./relay-host.ts', import.meta.url));

/** Writes the call test page (index.html, simple-peer's browser build, the bundled call engine) into `dir`. */
export async function writeCallPage(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await copyFile(SIMPLE_PEER_BROWSER_BUNDLE, join(dir, 'simple-peer.js'));
  await writeFile(join(dir, 'call-page.js'), await callPageScript());
  await writeFile(
    join(dir, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>Parley call test page</title><script src="simple-peer.js"></script><script src="call-page.js"></script>\n',
  );
}

export class RelayHost {
  private constructor(
    readonly proc: NodeProcess<RelayHostEvent>,
    readonly url: string,
    readonly httpUrl: string,
    private readonly forwardedTexts: string[],
  ) {}

  static async start(
    host: Host,
    port: number,
    opts: { tamper?: boolean; observe?: boolean; staticDir?: string; turn?: RelayHostArgs['turn'] } = {},
  ): Promise<RelayHost> {
    const args: RelayHostArgs = {
      address: host.address,
      port,
      tamper: opts.tamper ?? false,
      ...(opts.observe ? { observe: true } : {}),
      ...(opts.staticDir ? { staticDir: opts.staticDir } : {}),
      ...(opts.turn ? { turn: opts.turn } : {}),
    };
    const proc = host.spawnNode<RelayHostEvent>(RELAY_HOST_SCRIPT, [JSON.stringify(args)]);
    const forwarded: string[] = [];
    proc.inbox.tap((m) => (m.type === 'forwarded' ? forwarded.push(m.text) > 0 : false));
    const ready = await proc.next((m) => m.type === 'ready' || m.type === 'error', 30_000);
    if (ready.type !== 'ready') throw new Error(`relay host failed: ${JSON.stringify(ready)}${proc.diagnostics()}`);
    return new RelayHost(proc, ready.url, ready.httpUrl, forwarded);
  }

  /** Every call signal the relay forwarded so far (raw WebSocket text), with `observe` or `tamper`. */
  forwarded(): string[] {
    return [...this.forwardedTexts];
  }

  /** How many call signals the hostile relay altered (latest report). */
  tamperedCount(): number {
    let n = 0;
    for (const m of this.proc.inbox.recent) if (m.type === 'tampered') n = Math.max(n, m.count);
    return n;
  }

  async stop(): Promise<void> {
    await this.proc.stop(2_000);
  }
}

/** A call endpoint the test drives: a Node call peer or a Chromium page, same commands and events. */
export abstract class CallEndpoint {
  id = '';
  key: { alg: 'Ed25519' | 'P-256'; pub: string } = { alg: 'Ed25519', pub: '' };
  abstract readonly name: string;
  abstract readonly inbox: Inbox<CallPeerEvent>;
  protected abstract deliver(cmd: CallPeerCommand): Promise<void>;
  abstract stop(): Promise<void>;

  protected async init(init: Omit<Extract<CallPeerCommand, { type: 'init' }>, 'type' | 'name'>): Promise<void> {
    await this.deliver({ type: 'init', name: this.name, ...init });
    const ready = await this.next('ready', 30_000);
    this.id = ready.id;
    this.key = ready.key;
  }

  /** Makes the two endpoints contacts of each other. */
  static async befriend(a: CallEndpoint, b: CallEndpoint): Promise<void> {
    const fromB = await b.grantFor(a.id);
    const fromA = await a.grantFor(b.id);
    await a.command({ type: 'contact', id: b.id, key: b.key, name: b.name, grant: fromB });
    await b.command({ type: 'contact', id: a.id, key: a.key, name: a.name, grant: fromA });
  }

  /** This endpoint's watch grant for `to` (what a contact holds after accepting). */
  async grantFor(to: string): Promise<WatchGrant> {
    await this.command({ type: 'grant', to });
    return (await this.next('grant')).grant;
  }

  /** Sends a command and waits until the endpoint ran it (or throws with its error). */
  async command(cmd: CallPeerCommand): Promise<void> {
    await this.deliver(cmd);
    const r = await this.inbox.next(
      (m) => (m.type === 'done' && m.command === cmd.type) || m.type === 'error',
      30_000,
      `'${cmd.type}' done from ${this.name}`,
    );
    if (r.type === 'error') throw new Error(`${this.name}: ${r.message}`);
  }

  next<T extends CallPeerEvent['type']>(
    type: T,
    timeoutMs = 15_000,
    predicate: (e: CallPeerEventOf<T>) => boolean = () => true,
  ): Promise<CallPeerEventOf<T>> {
    return this.inbox.next(
      (m) => m.type === type && predicate(m as CallPeerEventOf<T>),
      timeoutMs,
      `'${type}' from ${this.name}`,
    ) as Promise<CallPeerEventOf<T>>;
  }

  /** The next state event reaching `state`, failing fast (with the end reason) if the call ends otherwise. */
  async reach(state: string, timeoutMs = 20_000): Promise<CallPeerEventOf<'state'>> {
    const e = await this.next(
      'state',
      timeoutMs,
      (s) => s.state === state || s.state === 'ended' || s.state === 'failed',
    );
    if (e.state !== state)
      throw new Error(`${this.name}: call ${e.state} (${e.end?.code}: ${e.end?.message}) while waiting for ${state}`);
    return e;
  }

  /** The final state event (ended or failed). */
  finished(timeoutMs = 30_000): Promise<CallPeerEventOf<'state'>> {
    return this.next('state', timeoutMs, (s) => s.state === 'ended' || s.state === 'failed');
  }

  /** Every state this endpoint's call went through so far (from the bounded recent log), in order. */
  statesSeen(callId: string): string[] {
    return this.inbox.recent
      .filter((m): m is CallPeerEventOf<'state'> => m.type === 'state' && m.callId === callId)
      .map((m) => m.state);
  }

  async media(videoFrames: number, audioSamples: number, timeoutMs = 20_000): Promise<MediaReport> {
    await this.command({ type: 'await-media', videoFrames, audioSamples, timeoutMs });
    return (await this.next('media', timeoutMs + 5_000)).report;
  }

  async stats(): Promise<Record<string, unknown>> {
    await this.command({ type: 'stats' });
    const r = await this.next('stats');
    if (!r.stats) throw new Error(`${this.name}: stats failed: ${r.error}`);
    return r.stats;
  }
}

/** The Node call peer (call-peer.ts) in a test-bed host. */
export class CallPeer extends CallEndpoint {
  private constructor(
    readonly name: string,
    readonly proc: NodeProcess<CallPeerEvent, CallPeerCommand>,
  ) {
    super();
  }

  get inbox(): Inbox<CallPeerEvent> {
    return this.proc.inbox;
  }

  static async start(
    host: Host,
    name: string,
    init: Omit<Extract<CallPeerCommand, { type: 'init' }>, 'type' | 'name'>,
  ): Promise<CallPeer> {
    const peer = new CallPeer(name, host.spawnNode<CallPeerEvent, CallPeerCommand>(CALL_PEER_SCRIPT, []));
    await peer.init(init);
    return peer;
  }

  protected deliver(cmd: CallPeerCommand): Promise<void> {
    return this.proc.send(cmd);
  }

  async stop(): Promise<void> {
    await this.proc.stop(2_000);
  }
}

/** The call test page (tests/e2e/call-pages) in a Chromium running inside a test-bed host; driven over Playwright's pipe. */
export class BrowserCallPeer extends CallEndpoint {
  readonly inbox: Inbox<CallPeerEvent>;
  readonly console: string[] = [];

  private constructor(
    readonly name: string,
    readonly context: BrowserContext,
    readonly page: Page,
  ) {
    super();
    this.inbox = new Inbox<CallPeerEvent>(
      10_000,
      () => `\n  ${name} console: ${this.console.slice(-20).join('\n    ')}`,
    );
    page.on('console', (m) => this.keep(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => this.keep(`pageerror: ${e.message}`));
  }

  private keep(line: string): void {
    this.console.push(line);
    if (this.console.length > 100) this.console.shift();
  }

  /**
   * Opens the call page at `pageUrl` (served by the relay host from a directory writeCallPage() filled: same
   * origin as the relay, which Chromium must be told to treat as secure for WebCrypto and the camera).
   */
  static async open(
    browser: Browser,
    name: string,
    pageUrl: string,
    init: Omit<Extract<CallPeerCommand, { type: 'init' }>, 'type' | 'name'>,
  ): Promise<BrowserCallPeer> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const peer = new BrowserCallPeer(name, context, page);
    await page.exposeFunction('__callEmit', (ev: CallPeerEvent) => peer.inbox.push(ev));
    await page.goto(pageUrl);
    await page.waitForFunction(() => 'SimplePeer' in globalThis && '__callPage' in globalThis, undefined, {
      timeout: 15_000,
    });
    await peer.init(init);
    return peer;
  }

  protected async deliver(cmd: CallPeerCommand): Promise<void> {
    // Not awaited to completion: results come back as events through __callEmit.
    void this.page
      .evaluate(
        (c) => (globalThis as unknown as { __callPage: { handle(c: unknown): Promise<void> } }).__callPage.handle(c),
        cmd,
      )
      .catch((e: unknown) => {
        this.inbox.push({ type: 'error', message: `evaluate ${cmd.type}: ${String(e)}` });
      });
  }

  async stop(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }
}
