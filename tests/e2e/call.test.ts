// Web client end to end: a video call between two Chromium users (fake camera and microphone), each in its own
// namespace host, the relay serving the client in a third. Driven through the UI as a user would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useWebWorld } from '../harness/app/web-world.js';
import { hangUpLeftoverCall, placeVideoCall } from '../harness/app/calls.js';
import { AppUser, randomFile, screenshot, sha256File } from '../harness/app/app.js';

const world = useWebWorld({
  users: ['a', 'b'],
  launch: () => ({ media: true, extraArgs: ['--autoplay-policy=no-user-gesture-required'] }),
  pair: ['Alice', 'Bob'],
});

/** What the remote <video> shows: its size, frames presented over ~1 s, and the state of its audio track. */
async function remoteMedia(
  page: Page,
): Promise<{ width: number; height: number; frames: number; audio: string | null }> {
  return page.locator('[data-testid="remote-video"]').evaluate(async (el) => {
    const video = el as HTMLVideoElement;
    let frames = 0;
    const count = (): void => {
      frames++;
      video.requestVideoFrameCallback(count);
    };
    video.requestVideoFrameCallback(count);
    await new Promise((r) => setTimeout(r, 1_000)); // a measurement window, not a synchronisation
    const stream = video.srcObject as MediaStream | null;
    return {
      width: video.videoWidth,
      height: video.videoHeight,
      frames,
      audio: stream?.getAudioTracks()[0]?.readyState ?? null,
    };
  });
}

describe('web client: calls', () => {
  let alice: AppUser;
  let bob: AppUser;
  const dir = mkdtempSync(join(tmpdir(), 'parley-e2e-call-'));

  beforeAll(() => {
    [alice, bob] = world.pair();
  });

  afterEach(async () => {
    await hangUpLeftoverCall(alice, bob, { waitClosed: true });
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('video call: each side sees the other (size, advancing frames, live audio); mute and camera-off reach the other side; stats; hang up', async () => {
    await alice.openChat('Bob');
    const { atCaller: atAlice, atCallee: atBob } = await placeVideoCall(alice, bob, {
      ringing: () => screenshot(bob.page, 'call-incoming'),
    });

    for (const user of [alice, bob]) {
      await expect.poll(async () => (await remoteMedia(user.page)).width, { timeout: 15_000 }).toBeGreaterThan(0);
      const m = await remoteMedia(user.page);
      expect(m.height).toBeGreaterThan(0);
      expect(m.frames).toBeGreaterThan(5); // frames keep coming, not a frozen picture
      expect(m.audio).toBe('live');
    }
    await screenshot(alice.page, 'call-active');

    await atAlice.getByTestId('toggle-mute').click();
    await bob.page.getByTestId('remote-muted').waitFor({ timeout: 15_000 });
    await atAlice.getByTestId('toggle-camera').click();
    await bob.page.getByTestId('remote-camera-off').waitFor({ timeout: 15_000 });
    await screenshot(bob.page, 'call-remote-muted-camera-off');
    await atAlice.getByTestId('toggle-camera').click();
    await bob.page.getByTestId('remote-camera-off').waitFor({ state: 'hidden', timeout: 15_000 });

    await atAlice.getByRole('button', { name: 'Statistics' }).click();
    await expect
      .poll(() => alice.page.locator('[data-stat="path"]').textContent(), { timeout: 15_000 })
      .toContain('Direct');
    await expect.poll(() => alice.page.locator('[data-stat="in"]').textContent(), { timeout: 15_000 }).toMatch(/\d/);
    await screenshot(alice.page, 'call-stats');

    await atAlice.getByTestId('hang-up').click();
    await atBob.and(bob.page.locator('[data-phase="ended"]')).waitFor({ timeout: 15_000 });
    // The call view closes by itself after a moment (it used to stay full-screen until Close), and
    // "Call again" is in the chat.
    for (const [user, dialog] of [
      [alice, atAlice],
      [bob, atBob],
    ] as const) {
      await dialog.waitFor({ state: 'hidden', timeout: 15_000 });
      await user.page.getByRole('button', { name: 'Call again' }).waitFor();
    }
    await screenshot(bob.page, 'call-ended-in-chat');
    expect(alice.unexpectedProblems()).toEqual([]);
    expect(bob.unexpectedProblems()).toEqual([]);
  });

  it('during a call: a file offered to the full-screen call view is accepted there and arrives intact; minimized, the chat and the file picker are usable and the call goes on', async () => {
    await Promise.all([alice.openChat('Bob'), bob.openChat('Alice')]);
    const { atCaller: atAlice, atCallee: atBob } = await placeVideoCall(alice, bob);

    // Alice shrinks her call: the composer and the file picker behind it take real clicks (a modal call view
    // would intercept them).
    await atAlice.getByTestId('minimize-call').click();
    await atAlice.and(alice.page.locator('[data-minimized="true"]')).waitFor();
    const name = `during-call-${Date.now()}.bin`;
    const path = join(dir, name);
    const sent = await randomFile(path, 8 * 1024 * 1024);
    const [chooser] = await Promise.all([
      alice.page.waitForEvent('filechooser'),
      alice.page.locator('.composer').getByRole('button', { name: 'Send files' }).click(),
    ]);
    await chooser.setFiles([path]);
    await alice.transferCard(name).waitFor();

    // Bob is in the full-screen call: the offer shows in the call view, and he accepts it there.
    const offers = atBob.getByTestId('call-file-offers');
    await offers.getByText(`Alice sends you ${name}`).waitFor({ timeout: 60_000 });
    await screenshot(bob.page, 'call-file-offered');
    await offers.getByRole('button', { name: 'Accept' }).click();
    await offers.waitFor({ state: 'hidden', timeout: 30_000 });
    await bob.waitTransfer(name, 'done');
    await alice.waitTransfer(name, 'done');
    expect(await sha256File(await bob.saveReceived(name, dir))).toBe(sent);

    // Minimized, Bob answers in the chat by typing into it.
    await atBob.getByTestId('minimize-call').click();
    const box = bob.page.getByRole('textbox', { name: /^Message to / });
    await box.click();
    await box.fill('got the file');
    await box.press('Enter');
    await alice.message('got the file').waitFor({ timeout: 30_000 });
    await screenshot(alice.page, 'call-minimized');
    for (const [user, dialog] of [
      [alice, atAlice],
      [bob, atBob],
    ] as const) {
      await dialog.and(user.page.locator('[data-phase="active"]')).waitFor();
      expect((await remoteMedia(user.page)).frames).toBeGreaterThan(5); // the picture kept going
    }

    await atAlice.getByTestId('expand-call').click();
    await atAlice.and(alice.page.locator('[data-minimized="false"]')).waitFor();
    await atAlice.getByTestId('hang-up').click();
    for (const dialog of [atAlice, atBob]) await dialog.waitFor({ state: 'hidden', timeout: 15_000 });
    expect(alice.unexpectedProblems()).toEqual([]);
    expect(bob.unexpectedProblems()).toEqual([]);
  }, 240_000);
  // UDP blocked with no TURN server: the call goes over the relay (call-relay.test.ts).
});
