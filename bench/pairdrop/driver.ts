// PairDrop between two Chromiums, driven as a user would (pick a file on the peer, Accept on the other
// side), for bench:e2e's peer comparison (issue 16). The server runs in the relay's host (server-host.ts);
// both pages join one public room, so PairDrop pairs them although their addresses differ. Timed inside the
// receiving page, as the app is: the Accept click to PairDrop's 'files-received' event. The received file
// is hashed afterwards (outside the timing) and must equal the source.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { Host, NodeProcess } from '../../tests/testbed/index.js';

const SERVER_HOST = fileURLToPath(new URL('./server-host.ts', import.meta.url));
const ROOM = 'bench';

export interface PairDropServer {
  readonly url: string;
  readonly proc: NodeProcess<{ type: string }>;
}

/** PairDrop's server from `dir` (a checkout with its npm dependencies) in `host`, with no ICE servers. */
export async function startPairDrop(host: Host, dir: string, tmp: string, port = 3100): Promise<PairDropServer> {
  const rtcConfig = join(tmp, 'pairdrop-rtc.json');
  await writeFile(rtcConfig, JSON.stringify({ sdpSemantics: 'unified-plan', iceServers: [] }));
  const proc = host.spawnNode<{ type: string }>(SERVER_HOST, [dir, String(port), rtcConfig]);
  await proc.next((m) => m.type === 'listening', 30_000);
  return { url: `http://${host.address}:${port}/`, proc };
}

async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  // Both join one public room (created on the first join), then wait to see the other.
  await page.waitForFunction('typeof Events === "function"');
  await page.evaluate(`Events.fire('join-public-room', { roomId: '${ROOM}', createIfInvalid: true })`);
  return page;
}

export class PairDropPair {
  private constructor(
    private readonly sender: Page,
    private readonly receiver: Page,
  ) {}

  static async open(a: BrowserContext, b: BrowserContext, server: PairDropServer): Promise<PairDropPair> {
    const sender = await openPage(a, server.url);
    const receiver = await openPage(b, server.url);
    await Promise.all([sender, receiver].map((p) => p.locator('x-peer').first().waitFor({ timeout: 60_000 })));
    return new PairDropPair(sender, receiver);
  }

  /** Sends the file at `path` (`bytes` long); returns MB/s from the Accept click to the file received. */
  async transfer(path: string, bytes: number, timeoutMs: number): Promise<number> {
    const expected = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
    // A string, not a function: tsx's __name helper is not in the page.
    await this.receiver.evaluate(`(() => {
      const w = window;
      w.__benchClick = undefined;
      w.__benchDone = undefined;
      w.__benchFile = undefined;
      document.getElementById('accept-request').addEventListener('click', () => { w.__benchClick ??= performance.now(); }, { capture: true, once: true });
      Events.on('files-received', (e) => { w.__benchDone = performance.now(); w.__benchFile = e.detail.files[0]; }, { once: true });
    })()`);
    await this.sender.locator('x-peer input[type=file]').first().setInputFiles(path);
    await this.receiver.locator('#accept-request').click({ timeout: 60_000 });
    await this.receiver.waitForFunction('window.__benchDone !== undefined', undefined, { timeout: timeoutMs });
    const { click, done, size, sha256 } = (await this.receiver.evaluate(`(async () => {
      const f = window.__benchFile;
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await f.arrayBuffer()));
      return {
        click: window.__benchClick,
        done: window.__benchDone,
        size: f.size,
        sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''),
      };
    })()`)) as { click?: number; done: number; size: number; sha256: string };
    if (click === undefined || !(done > click))
      throw new Error(`PairDrop transfer not timed (click ${click}, done ${done})`);
    if (size !== bytes || sha256 !== expected) throw new Error('PairDrop: the received file differs from the source');
    // The "file received" dialog covers the next round's Accept button: close it, and see it closed.
    await this.receiver.locator('#receive-file-dialog button[close]').click({ timeout: 30_000 });
    await this.receiver.waitForFunction(
      `!document.getElementById('receive-file-dialog').hasAttribute('show')`,
      undefined,
      {
        timeout: 30_000,
      },
    );
    return bytes / 1e6 / ((done - click) / 1000);
  }

  async close(): Promise<void> {
    await Promise.all([this.sender.close(), this.receiver.close()]);
  }
}
