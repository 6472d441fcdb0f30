// Test-side driver for a simple-peer peer inside a Chromium page (about:blank, no server needed): simple-peer's
// browser bundle and hash-wasm are injected with addScriptTag, commands go in with page.evaluate, events come
// back through an exposed binding. All of it over Playwright's pipe, none of it over the network.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PeerDriver } from './driver.js';
import { selectedPair, type PeerCommand } from './protocol.js';

const require = createRequire(import.meta.url);
const SIMPLE_PEER_BUNDLE = require.resolve('simple-peer/simplepeer.min.js');
const SHA256_BUNDLE = require.resolve('hash-wasm/dist/sha256.umd.min.js');
const PAGE_PEER = fileURLToPath(new URL('./page-peer.js', import.meta.url));

interface PageWindow {
  __tbPeer: { handle(cmd: PeerCommand): Promise<void>; stats(): Promise<Array<Record<string, unknown>>> };
}

export class BrowserPeer extends PeerDriver {
  private closed = false;
  private readonly consoleTail: string[] = [];

  private constructor(
    label: string,
    readonly context: BrowserContext,
    readonly page: Page,
    /** Whether closing the peer closes its context (one it made) or only its page (a shared one). */
    private readonly ownsContext = true,
  ) {
    super(label);
    page.on('console', (m) => this.keepConsole(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => this.keepConsole(`pageerror: ${e.message}`));
  }

  /**
   * Opens a page and installs the peer in it: in a fresh context of `browser`, or in the given context
   * (a persistent profile has only its own), where closing the peer closes only its page.
   */
  static async open(
    browser: Browser | BrowserContext,
    label = 'chromium',
    readyTimeoutMs = 15_000,
  ): Promise<BrowserPeer> {
    const owns = !('pages' in browser);
    const context = 'pages' in browser ? browser : await browser.newContext();
    const page = await context.newPage().catch(async (err: unknown) => {
      if (owns) await context.close().catch(() => undefined);
      throw err;
    });
    try {
      const peer = new BrowserPeer(label, context, page, owns);
      await page.exposeFunction('__tbEmit', (ev: unknown) => peer.accept(ev));
      await page.addScriptTag({ path: SIMPLE_PEER_BUNDLE });
      await page.addScriptTag({ path: SHA256_BUNDLE });
      await page.addScriptTag({ path: PAGE_PEER });
      await peer.next('ready', readyTimeoutMs);
      return peer;
    } catch (err) {
      await (owns ? context.close() : page.close()).catch(() => undefined);
      throw err;
    }
  }

  protected async deliver(cmd: PeerCommand): Promise<void> {
    if (cmd.type === 'stats') {
      // Selected-pair logic lives once, in protocol.ts; the page only hands over raw reports.
      const reports = await this.page.evaluate(() => (window as unknown as PageWindow).__tbPeer.stats());
      this.accept({ type: 'pair', pair: selectedPair(reports) });
      return;
    }
    await this.page.evaluate((c) => (window as unknown as PageWindow).__tbPeer.handle(c), cmd);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.events.close(`${this.label} closed`);
    await (this.ownsContext ? this.context.close() : this.page.close()).catch(() => undefined);
  }

  diagnostics(): string {
    return `  ${this.label} console: ${this.consoleTail.length ? this.consoleTail.join('\n    ') : '(empty)'}`;
  }

  private keepConsole(line: string): void {
    this.consoleTail.push(line.slice(0, 500));
    if (this.consoleTail.length > 30) this.consoleTail.shift();
  }
}
