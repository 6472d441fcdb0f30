// Chromium (simple-peer's browser bundle in about:blank) in one host ↔ a Node wrtc peer in another, with the
// signaling relayed by the test over Playwright and IPC: no network from the root namespace.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BrowserPeer, NodePeer, connectPeers } from '../../testbed/index.js';
import { useTestbed } from '../../testbed/vitest.js';

const MB = 1024 * 1024;

describe('Chromium ↔ Node in namespaces', () => {
  const bed = useTestbed({ hosts: ['a', 'b'], chromium: true });

  it('connects a data channel and moves 2 MB intact each way', async () => {
    const { a: A, b: B } = bed().hosts;
    const browser = await A.launchChromium();
    let c: BrowserPeer | undefined;
    let n: NodePeer | undefined;
    try {
      [c, n] = await Promise.all([BrowserPeer.open(browser), NodePeer.spawn(B)]);
      const { ms } = await connectPeers(c, n);
      const [cp, np] = await Promise.all([c.pair(), n.pair()]);
      console.log(
        `[testbed] chromium↔node connect ${ms.toFixed(0)} ms, chromium pair ${JSON.stringify(cp)}, node pair ${JSON.stringify(np)}`,
      );
      expect(np?.local.address).toBe(B.address);

      await n.expect(2 * MB);
      await c.pump(2 * MB);
      const [sent, got] = await Promise.all([c.next('pumped', 60_000), n.next('received', 60_000)]);
      expect(got.bytes).toBe(2 * MB);
      expect(got.sha256).toBe(sent.sha256);

      await c.expect(2 * MB);
      await n.pump(2 * MB);
      const [sent2, got2] = await Promise.all([n.next('pumped', 60_000), c.next('received', 60_000)]);
      expect(got2.bytes).toBe(2 * MB);
      expect(got2.sha256).toBe(sent2.sha256);
    } finally {
      await Promise.all([c?.close(), n?.close()]);
      await browser.close();
    }
  });

  it('a persistent profile keeps storage on disk, and peers open as pages of its one context', async () => {
    const { a: A, b: B } = bed().hosts;
    const context = await A.launchChromiumProfile({}, { locale: 'en-US' });
    const profileBytes = () => diskBytes(bed().tempDir, /^profile-/);
    let c: BrowserPeer | undefined;
    let n: NodePeer | undefined;
    try {
      // localhost is a secure context; Playwright answers it, nothing goes over the network.
      const page = context.pages()[0] ?? (await context.newPage());
      await page.route('http://localhost/opfs.html', (r) =>
        r.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html>' }),
      );
      await page.goto('http://localhost/opfs.html');
      const before = profileBytes();
      await page.evaluate(async () => {
        const root = await navigator.storage.getDirectory();
        const w = await (await root.getFileHandle('x.bin', { create: true })).createWritable();
        await w.write(new Uint8Array(4 * 1024 * 1024).fill(7));
        await w.close();
      });
      // Off the record, the origin-private file system lives in the browser's memory; here it is a file.
      expect(profileBytes() - before).toBeGreaterThanOrEqual(4 * MB);

      const pages = context.pages().length;
      [c, n] = await Promise.all([BrowserPeer.open(context, 'profile-peer'), NodePeer.spawn(B)]);
      expect(context.pages().length).toBe(pages + 1);
      await connectPeers(c, n);
      await n.expect(MB);
      await c.pump(MB);
      const [sent, got] = await Promise.all([c.next('pumped', 60_000), n.next('received', 60_000)]);
      expect(got.sha256).toBe(sent.sha256);
      await c.close();
      // Closing the peer closed its page, not the profile's context.
      expect(context.pages().length).toBe(pages);
      expect(await page.evaluate(() => 1 + 1)).toBe(2);
    } finally {
      await Promise.all([c?.close(), n?.close()]);
      await context.close();
    }
  });
});

/** Bytes of the files under `dir`'s entries whose names match `top`. */
function diskBytes(dir: string, top: RegExp): number {
  let total = 0;
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) total += statSync(full).size;
    }
  };
  for (const entry of readdirSync(dir, { withFileTypes: true }))
    if (entry.isDirectory() && top.test(entry.name)) walk(join(dir, entry.name));
  return total;
}
