// Shared pieces of the web-client end-to-end tests: build the renderer once, run the relay that
// serves it inside a test-bed host, and drive the app in Chromium through its accessible UI
// (roles and names, as a user or a screen reader would find things).
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Download, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Host, NodeProcess } from '../../testbed/index.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RENDERER_DIST = join(ROOT, 'dist/renderer');
export const SCREENSHOTS = join(ROOT, 'test-artifacts/screenshots');
const RELAY_SCRIPT = fileURLToPath(new URL('./web-relay.ts', import.meta.url));
const HOSTILE_RELAY_SCRIPT = fileURLToPath(new URL('./hostile-web-relay.ts', import.meta.url));

let built: Promise<void> | null = null;

/**
 * Builds the web client into dist/renderer (once per test process), exactly as `npm run build:renderer`
 * does. A child process, because under vitest NODE_ENV is 'test' and an in-process build would compile
 * Svelte in dev mode.
 */
export function buildRenderer(): Promise<void> {
  built ??= new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [
        join(ROOT, 'node_modules/vite/bin/vite.js'),
        'build',
        '--config',
        'renderer/vite.config.ts',
        '--logLevel',
        'warn',
      ],
      { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' }, maxBuffer: 16 * 1024 * 1024 },
      (err, _stdout, stderr) =>
        err ? reject(new Error(`renderer build failed: ${stderr || err.message}`)) : resolve(),
    );
  });
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

export async function startWebRelay(
  host: Host,
  port = 8800 + Math.floor(Math.random() * 900),
  turn?: { urls: string[]; secret: string },
  opts: { hostile?: boolean } = {},
): Promise<WebRelay> {
  // Hostile: behind a proxy that alters a call's media records on request (hostile-web-relay.ts).
  const script = opts.hostile ? HOSTILE_RELAY_SCRIPT : RELAY_SCRIPT;
  const proc = host.spawnNode<{ type: string; url: string; httpUrl: string; port: number }>(script, [
    host.address,
    String(port),
    RENDERER_DIST,
    ...(turn ? [JSON.stringify(turn)] : []),
  ]);
  const msg = await proc.next((m) => m.type === 'listening', 30_000);
  return { proc, url: msg.url, httpUrl: msg.httpUrl.endsWith('/') ? msg.httpUrl : `${msg.httpUrl}/`, port: msg.port };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** The browser context every app user gets: window size, language and theme the screenshots assume. */
export const APP_CONTEXT = {
  acceptDownloads: true,
  viewport: { width: 1100, height: 720 },
  locale: 'en-US',
  colorScheme: 'light',
} as const;

/** One user: a browser context (its own IndexedDB/OPFS) and page on the web client. */
export class AppUser {
  /** Console errors, page errors and CSP violations seen so far (the test asserts there are none). */
  readonly problems: string[] = [];
  /** Every browser download the page started (the web client saves received files this way). */
  readonly downloads: Download[] = [];

  private constructor(
    readonly name: string,
    readonly context: BrowserContext,
    public page: Page,
  ) {}

  static async open(browser: Browser, url: string, name: string, opts: { locale?: string } = {}): Promise<AppUser> {
    return AppUser.openIn(await browser.newContext({ ...APP_CONTEXT, locale: opts.locale ?? 'en-US' }), url, name);
  }

  /** The app in a context of its own, e.g. a persistent profile launched with APP_CONTEXT; closing the user closes it. */
  static async openIn(context: BrowserContext, url: string, name: string): Promise<AppUser> {
    const page = context.pages()[0] ?? (await context.newPage());
    const user = new AppUser(name, context, page);
    user.watch(page);
    await page.goto(url);
    return user;
  }

  private watch(page: Page): void {
    page.on('download', (d) => this.downloads.push(d));
    page.on('pageerror', (err) => this.problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      const text = msg.text();
      if (msg.type() === 'error' || /Content Security Policy/i.test(text))
        this.problems.push(`console.${msg.type()}: ${text}`);
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
    return this.page
      .getByRole('listbox', { name: 'Contacts' })
      .getByRole('option', { name: new RegExp(`^${escapeRe(name)},`) });
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

  /** The message bubble whose text contains `text` (or equals it, with exact). */
  message(text: string, opts: { exact?: boolean } = {}) {
    const hasText = opts.exact ? new RegExp(`^${escapeRe(text)}$`) : text;
    return this.page.locator('[data-message-id]').filter({ has: this.page.locator('p.text', { hasText }) });
  }

  /** Delivered or already read: a contact with the chat open reads a message as it arrives. */
  async waitDelivered(text: string, timeoutMs = 30_000): Promise<void> {
    await this.message(text)
      .and(this.page.locator('[data-status="delivered"], [data-status="read"]'))
      .waitFor({ timeout: timeoutMs });
  }

  /** The path badge in the chat header ("direct", "relay" or "none"). */
  async headerPath(): Promise<string | null> {
    return this.page.locator('.chat-header [data-path]').getAttribute('data-path');
  }

  async waitHeaderPath(path: 'direct' | 'relay', timeoutMs = 30_000): Promise<void> {
    await this.page.locator(`.chat-header [data-path="${path}"]`).waitFor({ timeout: timeoutMs });
  }

  /** Picks files in the composer, as the paperclip button does. */
  async sendFiles(paths: string[]): Promise<void> {
    await this.page.getByTestId('file-input').setInputFiles(paths);
  }

  transferCard(name: string) {
    return this.page.getByRole('article', { name: `File ${name}` });
  }

  async waitTransfer(name: string, status: string, timeoutMs = 240_000): Promise<void> {
    await this.page
      .locator(`article[data-status="${status}"]`)
      .filter({ has: this.page.getByText(name, { exact: true }) })
      .waitFor({ timeout: timeoutMs });
  }

  /**
   * A received file as the browser downloaded it, copied into `dir`; returns its path. With "Save received
   * files automatically" (the default) the download has started by itself; else `click` presses the
   * card's Save button.
   */
  async saveReceived(
    name: string,
    dir: string,
    opts: { click?: boolean; screenshotName?: string } = {},
  ): Promise<string> {
    const p = this.page;
    const card = this.transferCard(name);
    let download: Download;
    if (opts.click) {
      [download] = await Promise.all([
        p.waitForEvent('download'),
        card.getByRole('button', { name: `Save ${name} to your computer` }).click(),
      ]);
    } else {
      await expect
        .poll(() => this.downloads.some((d) => d.suggestedFilename() === name), { timeout: 30_000 })
        .toBe(true);
      download = this.downloads.find((d) => d.suggestedFilename() === name)!;
    }
    await card.getByText('Saved to your downloads').waitFor();
    if (opts.screenshotName) await screenshot(p, opts.screenshotName);
    const target = join(dir, `${this.name}-${download.suggestedFilename()}`);
    await download.saveAs(target);
    return target;
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }
}

/**
 * Two new users who have added each other (the common start of most tests), each in a new context of a
 * browser or in a given context (a persistent profile, launched with APP_CONTEXT).
 */
export async function introducedPair(
  browserA: Browser | BrowserContext,
  browserB: Browser | BrowserContext,
  url: string,
  names: [string, string],
): Promise<[AppUser, AppUser]> {
  const open = (where: Browser | BrowserContext, name: string) =>
    'pages' in where ? AppUser.openIn(where, url, name) : AppUser.open(where, url, name);
  const [a, b] = await Promise.all([open(browserA, names[0]), open(browserB, names[1])]);
  await Promise.all([a.createIdentity(), b.createIdentity()]);
  await Promise.all([a.waitRelayOnline(), b.waitRelayOnline()]);
  const [inviteA, inviteB] = [await a.inviteLink(), await b.inviteLink()];
  await b.addContact(inviteA, names[0]);
  await a.addContact(inviteB, names[1]);
  return [a, b];
}

/** Writes `bytes` of random data to `path` in 1 MiB pieces; returns its SHA-256 (hex). */
export async function randomFile(path: string, bytes: number): Promise<string> {
  const { createHash, randomFillSync } = await import('node:crypto');
  const { open } = await import('node:fs/promises');
  const hash = createHash('sha256');
  const fh = await open(path, 'w');
  try {
    const buf = Buffer.alloc(1024 * 1024);
    for (let done = 0; done < bytes;) {
      const n = Math.min(buf.length, bytes - done);
      randomFillSync(buf, 0, n);
      await fh.write(buf, 0, n);
      hash.update(buf.subarray(0, n));
      done += n;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  const { createReadStream } = await import('node:fs');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Controls on the page without an accessible name (visible text, aria-label, aria-labelledby, a <label>
 * or title). Returns a short description of each offender.
 */
export async function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const controls = document.querySelectorAll<HTMLElement>(
      'button, a[href], input, select, textarea, [role="button"], [role="option"], [role="switch"], [tabindex="0"]',
    );
    for (const el of controls) {
      if (
        el.closest('[aria-hidden="true"]') ||
        el.getAttribute('type') === 'hidden' ||
        el.classList.contains('visually-hidden')
      )
        continue;
      const labelled = el
        .getAttribute('aria-labelledby')
        ?.split(/\s+/)
        .some((id) => document.getElementById(id)?.textContent?.trim());
      const labels = (el as HTMLInputElement).labels;
      const name =
        el.getAttribute('aria-label')?.trim() ||
        (labelled ? 'labelledby' : '') ||
        (labels && labels.length > 0 ? 'label' : '') ||
        el.getAttribute('title')?.trim() ||
        el.textContent?.trim();
      if (!name) out.push(el.outerHTML.slice(0, 120));
    }
    return out;
  });
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
