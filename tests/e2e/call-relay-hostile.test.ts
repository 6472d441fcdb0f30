// Web client end to end, against a hostile relay: a video call whose media goes over the relay (UDP blocked
// in one host, no TURN server), and then the relay, which cannot read that media, alters it on the way as
// only a relay can: it sends one sealed media record to a client a second time, or flips one bit of one
// (tests/harness/app/hostile-web-relay.ts, a proxy in front of the real relay). Where the record arrives
// (the media worker opens the channel's records) it is refused, by its counter or by AES-GCM; the call ends at
// once on both sides with the reason, not a frozen picture that reads as a lost connection seconds later;
// no page crashes or logs an error.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppUser } from '../harness/app/app.js';
import { callDialog, hangUpLeftoverCall, placeVideoCall } from '../harness/app/calls.js';
import { useWebWorld } from '../harness/app/web-world.js';

const world = useWebWorld({
  users: ['a', 'b'],
  launch: () => ({ media: true, extraArgs: ['--autoplay-policy=no-user-gesture-required'] }),
  pair: ['Alice', 'Bob'],
  hostileRelay: true,
});

describe('web client: a relay that alters a call’s media', () => {
  let alice: AppUser;
  let bob: AppUser;

  beforeAll(async () => {
    [alice, bob] = world.pair();
    await alice.openChat('Bob');
  });

  afterEach(async () => {
    await hangUpLeftoverCall(alice, bob, { waitClosed: true });
  });

  for (const how of ['replay', 'forge'] as const)
    it(`a ${how === 'replay' ? 'replayed' : 'forged'} media record is refused and the call ends on both sides, saying the relay altered it`, async () => {
      const { b } = world.bed().hosts;
      await b.blockUdp();
      try {
        const { atCaller: atAlice, atCallee: atBob } = await placeVideoCall(alice, bob);
        for (const user of [alice, bob]) {
          await expect
            .poll(() => user.page.getByTestId('media-path').getAttribute('data-path'), { timeout: 30_000 })
            .toBe('relay');
        }
        const tampered = world.relay.proc.next((m) => m.type === 'tampered', 30_000);
        await world.relay.proc.send({ type: 'tamper', how });
        await tampered;
        for (const at of [atAlice, atBob]) {
          await expect.poll(() => at.getAttribute('data-phase'), { timeout: 15_000 }).toBe('failed');
          // It had connected: it dropped, and why.
          expect(await at.getByTestId('call-status').textContent()).toMatch(/^Call dropped: .*altered on the way/);
        }
        for (const [user, peer] of [
          [alice, 'Bob'],
          [bob, 'Alice'],
        ] as const) {
          await callDialog(user, peer).getByRole('button', { name: 'Close' }).click();
          await callDialog(user, peer).waitFor({ state: 'hidden', timeout: 10_000 });
        }
        expect(alice.unexpectedProblems()).toEqual([]);
        expect(bob.unexpectedProblems()).toEqual([]);
      } finally {
        await b.unblock();
      }
    });
});
