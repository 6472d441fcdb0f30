// Shared pieces of the web-client end-to-end tests: build the renderer once, run the relay that
// serves it inside a test-bed host, and drive the app in Chromium through its accessible UI
// (roles and names, as a user or a screen reader would find things).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Host, NodeProcess } from '../testbed/index.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RENDERER_DIST = join(ROOT, 'dist/renderer');
export const SCREENSHOTS = join(ROOT, 'test-artifacts/screenshots');
const RELAY_SCRIPT = fileURLToPath(new URL('./fixtures/web-relay.ts', import.meta.url));

let built: Promise<void> | null = null;

/** Builds the web client into dist/renderer (once per test process). */
export function buildRenderer(): Promise<void> {
  built ??= (async () => {
    const { build } = await import('vite');
    await build({ configFile: join(ROOT, 'renderer/vite.config.ts'), logLevel: 'warn' });
  })();
  return built;
}

export interface WebRelay {
  proc: NodeProcess<{ type: string; url: string; httpUrl: string; port: number }>;
  /** ws://host:port/ws */
  url: string;
  /** http://host:port/ — the web client. */
  httpUrl: string;
  port: number;
}

export async function startWebRelay(host: Host, port = 8800 + Math.floor(Math.random() * 900)): Promise<WebRelay> {
  const proc = host.spawnNode<{ type: string; url: string; httpUrl: string; port: number }>(RELAY_SCRIPT, [host.address, String(port), RENDERER_DIST]);
  const msg = await proc.next((m) => m.type === 'listening', 30_000);
  return { proc, url: msg.url, httpUrl: msg.httpUrl.endsWith('/') ? msg.httpUrl : `${msg.httpUrl}/`, port: msg.port };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** One user: a browser context (its own IndexedDB/OPFS) and page on the web client. */
export class AppUser {
  /** Console errors, page errors and CSP violations seen so far (the test asserts there are none). */
  readonly problems: string[] = [];

  private constructor(
    readonly name: string,
    readonly context: BrowserContext,
    public page: Page,
  ) {}

  static async open(browser: Browser, url: string, name: string, opts: { locale?: string } = {}): Promise<AppUser> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, locale: opts.locale ?? 'en-US', colorScheme: 'light' });
    const page = await context.newPage();
    const user = new AppUser(name, context, page);
    user.watch(page);
    await page.goto(url);
    return user;
  }

  private watch(page: Page): void {
    page.on('pageerror', (err) => this.problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      const text = msg.text();
      if (msg.type() === 'error' || /Content Security Policy/i.test(text)) this.problems.push(`console.${msg.type()}: ${text}`);
    });
  }

  /** CSP and script errors, ignoring the network errors a test provokes on purpose. */
  unexpectedProblems(): string[] {
    return this.problems.filter((p) => !/ERR_CONNECTION|WebSocket connection|net::ERR/.test(p));
  }

  async reload(): Promise<void> {
    await this.page.reload();
  }

  /** First run: choose a display name; resolves when the main screen is up. */
  async createIdentity(): Promise<void> {
    const p = this.page;
    await p.getByLabel('Your name').fill(this.name);
    await p.getByRole('button', { name: 'Continue' }).click();
    await p.getByRole('navigation', { name: 'Chats' }).waitFor();
  }

  async waitRelayOnline(timeoutMs = 30_000): Promise<void> {
    await this.page.locator('[data-relay-state="online"]').waitFor({ timeout: timeoutMs });
  }

  async inviteLink(screenshotName?: string): Promise<string> {
    const p = this.page;
    await p.getByRole('button', { name: 'Your invite', exact: true }).click();
    const dialog = p.getByRole('dialog', { name: 'Your invite' });
    const link = await dialog.getByLabel('Invite link', { exact: true }).inputValue();
    if (screenshotName) await screenshot(p, screenshotName);
    await dialog.getByRole('button', { name: 'Close' }).first().click();
    await dialog.waitFor({ state: 'hidden' });
    return link;
  }

  async addContact(invite: string, expectedName: string): Promise<void> {
    const p = this.page;
    await p.getByRole('button', { name: 'Add contact' }).first().click();
    const dialog = p.getByRole('dialog', { name: 'Add contact' });
    await dialog.getByLabel('Paste an invite link').fill(invite);
    await dialog.getByText('Valid invite').waitFor();
    await dialog.getByRole('button', { name: 'Add contact' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await this.contactRow(expectedName).waitFor();
  }

  contactRow(name: string) {
    return this.page.getByRole('listbox', { name: 'Contacts' }).getByRole('option', { name: new RegExp(`^${escapeRe(name)},`) });
  }

  async openChat(name: string): Promise<void> {
    await this.contactRow(name).click();
    await this.page.getByRole('region', { name: `Conversation with ${name}` }).waitFor();
  }

  async send(text: string): Promise<void> {
    const box = this.page.getByRole('textbox', { name: /^Message to / });
    await box.fill(text);
    await box.press('Enter');
  }

  /** Waits for a message bubble with this exact text. */
  message(text: string) {
    return this.page.locator('[data-message-id]').filter({ has: this.page.locator('p.text', { hasText: text }) });
  }

  async waitDelivered(text: string, timeoutMs = 30_000): Promise<void> {
    await this.message(text).and(this.page.locator('[data-status="delivered"]')).waitFor({ timeout: timeoutMs });
  }

  /** The path badge in the chat header ("direct", "relay" or "none"). */
  async headerPath(): Promise<string | null> {
    return this.page.locator('.chat-header [data-path]').getAttribute('data-path');
  }

  async waitHeaderPath(path: 'direct' | 'relay', timeoutMs = 30_000): Promise<void> {
    await this.page.locator(`.chat-header [data-path="${path}"]`).waitFor({ timeout: timeoutMs });
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
