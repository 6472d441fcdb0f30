// Web client end to end: "Always use the relay" (IP privacy) with no TURN server anywhere. The direct attempt
// is refused at once (it could only reveal addresses), and the call does not end "no-path": relay media
// carries it, which reveals no address either. Two Chromium users with fake camera and microphone, each in
// its own namespace host, the relay in a third; the network itself is open.
import { describe, expect, it } from 'vitest';
import { useWebWorld } from '../harness/app/web-world.js';
import { callDialog, hangUpLeftoverCall, placeVideoCall } from '../harness/app/calls.js';

const world = useWebWorld({
  users: ['a', 'b'],
  launch: () => ({ media: true, extraArgs: ['--autoplay-policy=no-user-gesture-required'] }),
  pair: ['Alice', 'Bob'],
});

describe('web client: calls with "Always use the relay" and no TURN server', () => {
  it('the call is active over relay media on both sides, picture and sound flowing', async () => {
    const [alice, bob] = world.pair();
    await alice.page.getByRole('button', { name: 'Settings' }).click();
    const settings = alice.page.getByRole('dialog', { name: 'Settings' });
    const relayOnly = settings.getByRole('switch', { name: 'Always use the relay' });
    await relayOnly.check();
    await settings.getByRole('button', { name: 'Save' }).click();
    await settings.waitFor({ state: 'hidden' });
    try {
      await alice.openChat('Bob');
      const { atCaller: atAlice, atCallee: atBob } = await placeVideoCall(alice, bob);
      for (const user of [alice, bob]) {
        await expect
          .poll(() => user.page.getByTestId('media-path').getAttribute('data-path'), { timeout: 30_000 })
          .toBe('relay');
      }
      // Media arrives on both sides (the stats panel's inbound rate), and neither call ended "no-path".
      for (const [user, peer] of [
        [alice, 'Bob'],
        [bob, 'Alice'],
      ] as const) {
        await callDialog(user, peer).getByRole('button', { name: 'Statistics' }).click();
        await expect
          .poll(() => user.page.locator('[data-stat="in"]').textContent(), { timeout: 15_000 })
          .toMatch(/[1-9]/);
      }
      expect(await atAlice.getAttribute('data-phase')).toBe('active');
      expect(await atBob.getAttribute('data-phase')).toBe('active');
      await atAlice.getByTestId('hang-up').click();
      await atBob.and(bob.page.locator('[data-phase="ended"]')).waitFor({ timeout: 15_000 });
      expect(alice.unexpectedProblems()).toEqual([]);
      expect(bob.unexpectedProblems()).toEqual([]);
    } finally {
      await hangUpLeftoverCall(alice, bob);
    }
  });
});
