// The call engine in Chromium (fake camera and microphone) calling a Node peer and back, each in its own
// namespace host, through the relay in a third: core/src/call bundled for the browser runs unchanged there.
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { useTestbed } from '../../testbed/vitest.js';
import { BrowserCallPeer, CallEndpoint, CallPeer, RelayHost, writeCallPage } from './peers/driver.js';

describe('calls between Chromium and a Node peer', () => {
  const bed = useTestbed({ hosts: ['relay', 'node', 'chrome'] });
  let relay: RelayHost | null = null;
  let browser: Browser | null = null;
  const running: CallEndpoint[] = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await relay?.stop();
  });

  async function endpoints(): Promise<{ web: BrowserCallPeer; node: CallPeer }> {
    const { relay: R, node: N, chrome: C } = bed().hosts;
    if (!relay) {
      const pageDir = join(bed().tempDir, 'call-page');
      await writeCallPage(pageDir);
      relay = await RelayHost.start(R, 8443, { staticDir: pageDir });
    }
    browser ??= await C.launchChromium({
      media: true,
      secureOrigins: [new URL(relay.httpUrl).origin],
      extraArgs: ['--autoplay-policy=no-user-gesture-required'],
    });
    const [web, node] = await Promise.all([
      BrowserCallPeer.open(browser, 'Wendy', relay.httpUrl, { relayUrl: relay.url }),
      CallPeer.start(N, 'Nick', { relayUrl: relay.url }),
    ]);
    running.push(web, node);
    await CallEndpoint.befriend(web, node);
    return { web, node };
  }

  it('Chromium calls Node with video: media both ways, Chromium stats, mute reaches Node, Node hangs up', async () => {
    const { web, node } = await endpoints();
    await web.command({ type: 'call', to: node.id, video: true });
    expect(await node.next('incoming')).toMatchObject({ from: web.id, offered: { audio: true, video: true } });
    await web.reach('ringing');
    const t0 = performance.now();
    await node.command({ type: 'accept', video: true });
    await Promise.all([web.reach('active'), node.reach('active')]);
    console.log(`[call] chromium→node accept → active ${(performance.now() - t0).toFixed(0)} ms`);

    const [atNode, atWeb] = await Promise.all([node.media(20, 48_000), web.media(20, 48_000)]);
    console.log(`[call] at node ${JSON.stringify(atNode)}; at chromium ${JSON.stringify(atWeb)}`);
    for (const r of [atNode, atWeb]) {
      expect(r.timedOut).toBe(false);
      expect(r.videoFrames).toBeGreaterThanOrEqual(20);
      expect(r.distinctFrames).toBeGreaterThanOrEqual(10);
      expect(r.width).toBeGreaterThan(0);
      expect(r.audioSamples).toBeGreaterThanOrEqual(48_000);
    }
    expect([atWeb.width, atWeb.height]).toEqual([320, 240]); // what the Node peer sends
    expect(atNode.audioPeak).toBeGreaterThan(0); // Chromium's fake microphone beeps

    await web.stats();
    await web.media(atWeb.videoFrames + 10, 0);
    const stats = await web.stats();
    console.log(`[call] stats in Chromium: ${JSON.stringify(stats)}`);
    expect(stats.path).toBe('direct');
    expect(stats.videoCodec).toBeTruthy();
    expect(String(stats.audioCodec).toLowerCase()).toBe('opus');
    expect(stats.frameWidth).toBe(320);
    expect(stats.inboundKbps).toBeGreaterThan(0);
    expect(typeof stats.rttMs).toBe('number');

    await web.command({ type: 'mute', muted: true });
    expect(await node.next('remote-state', 10_000, (s) => s.muted)).toMatchObject({
      muted: true,
      cameraOff: false,
      video: true,
    });

    await node.command({ type: 'hangup' });
    expect(await web.finished()).toMatchObject({ state: 'ended', end: { code: 'remote-hangup' } });
    expect(await node.finished()).toMatchObject({ state: 'ended', end: { code: 'hangup' } });
  });

  it('Node calls Chromium audio only; Chromium adds its camera mid-call and Node receives the video', async () => {
    const { web, node } = await endpoints();
    await node.command({ type: 'call', to: web.id, video: false });
    expect(await web.next('incoming')).toMatchObject({ from: node.id, offered: { audio: true, video: false } });
    await web.command({ type: 'accept', video: false });
    await Promise.all([web.reach('active'), node.reach('active')]);
    expect((await node.media(0, 24_000)).videoFrames).toBe(0);

    await web.command({ type: 'add-video' });
    await node.next('remote-track', 15_000, (t) => t.kind === 'video');
    const atNode = await node.media(20, 0);
    expect(atNode.timedOut).toBe(false);
    expect(atNode.videoFrames).toBeGreaterThanOrEqual(20);

    await web.command({ type: 'hangup' });
    expect(await node.finished()).toMatchObject({ state: 'ended', end: { code: 'remote-hangup' } });
  });
});
