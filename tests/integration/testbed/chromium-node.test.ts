// Chromium (simple-peer's browser bundle in about:blank) in one host ↔ a Node wrtc peer in another, with the
// signaling relayed by the test over Playwright and IPC: no network from the root namespace.
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
      console.log(`[testbed] chromium↔node connect ${ms.toFixed(0)} ms, chromium pair ${JSON.stringify(cp)}, node pair ${JSON.stringify(np)}`);
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
});
