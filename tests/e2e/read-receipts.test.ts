// Read receipts and the unread badge with real window focus (issue 14.5): two headed Chromiums on one
// Xvfb display, both chats open on screen. Only one window can have focus, yet both users see their chat:
// messages must reach "Read" on both sides and the open chat must not keep an unread badge. Deciding
// "read" from window focus left every message at "Delivered" and a "1" on the open chat.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { useWebWorld } from '../harness/app/web-world.js';
import { AppUser, introducedPair, screenshot } from '../harness/app/app.js';

/** An X server of our own (no TCP): it picks a free display and writes its number when it is ready. */
async function startXvfb(): Promise<{ display: string; proc: ChildProcess }> {
  const proc = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', '1280x900x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('Xvfb did not start within 15 s')), 15_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`:${m[1]}`);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code})`));
    });
  });
  return { display, proc };
}

describe('web client: read receipts in headed windows', () => {
  let xvfb: { display: string; proc: ChildProcess } | undefined;
  const world = useWebWorld({
    users: ['a', 'b'],
    launch: async () => ({ display: (xvfb = await startXvfb()).display }),
  });
  let alice: AppUser;
  let bob: AppUser;

  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    xvfb?.proc.kill('SIGTERM');
  });

  it('both chats open: messages reach Read both ways and the open chat shows no unread count', async () => {
    [alice, bob] = await introducedPair(world.browser('a'), world.browser('b'), world.relay.httpUrl, ['Alice', 'Bob']);
    await Promise.all([alice.openChat('Bob'), bob.openChat('Alice')]);
    // Real focus: one window at most has it.
    const focused = await Promise.all([
      alice.page.evaluate(() => document.hasFocus()),
      bob.page.evaluate(() => document.hasFocus()),
    ]);
    console.log(`[read-receipts] document.hasFocus(): alice ${focused[0]}, bob ${focused[1]}`);

    await alice.send('Can you see this?');
    await bob.message('Can you see this?').waitFor({ timeout: 30_000 });
    await bob.send('Yes, I am reading it.');
    await alice.message('Yes, I am reading it.').waitFor({ timeout: 30_000 });

    await alice
      .message('Can you see this?')
      .and(alice.page.locator('[data-status="read"]'))
      .waitFor({ timeout: 30_000 });
    await bob
      .message('Yes, I am reading it.')
      .and(bob.page.locator('[data-status="read"]'))
      .waitFor({ timeout: 30_000 });
    for (const [user, other] of [
      [alice, 'Bob'],
      [bob, 'Alice'],
    ] as const) {
      expect(await user.contactRow(other).getAttribute('aria-label')).not.toMatch(/unread/);
      expect(await user.contactRow(other).locator('.badge').count()).toBe(0);
    }
    await screenshot(alice.page, 'read-receipts');
    expect(alice.unexpectedProblems()).toEqual([]);
    expect(bob.unexpectedProblems()).toEqual([]);
  });
});
