// Web client end to end (#11 item 8): the relay hands out TURN credentials for a coturn (use-auth-secret) in
// a host of its own; neither user configured a TURN server. With everything but the relay's TCP port and the
// TURN server's UDP port blocked in one host, the video call connects through TURN (not relay media): the
// call view and the stats panel say so, and the picture moves.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../testbed/index.js';
import { useWebWorld } from '../harness/app/web-world.js';
import { callDialog, hangUpLeftoverCall, placeVideoCall } from '../harness/app/calls.js';
import { AppUser, screenshot } from '../harness/app/app.js';

const TURN_SCRIPT = fileURLToPath(new URL('../integration/call/peers/turn-host.ts', import.meta.url));
const TURN_PORT = 3478;
const SECRET = 'e2e-coturn-static-auth-secret';

const world = useWebWorld({
  users: ['a', 'b'],
  others: ['turn'],
  launch: () => ({ media: true, extraArgs: ['--autoplay-policy=no-user-gesture-required'] }),
  pair: ['Alice', 'Bob'],
  relayTurn: (hosts) => ({ urls: [`turn:${hosts.turn.address}:${TURN_PORT}?transport=udp`], secret: SECRET }),
});
const bed = world.bed;

describe('web client: calls through the TURN server the relay provides', () => {
  let alice: AppUser;
  let bob: AppUser;
  let turn: NodeProcess<{ type: string; message?: string }> | null = null;

  beforeAll(async () => {
    [alice, bob] = world.pair();
    const { turn: T } = bed().hosts;
    turn = T.spawnNode<{ type: string; message?: string }>(TURN_SCRIPT, [
      JSON.stringify({ address: T.address, port: TURN_PORT, secret: SECRET }),
    ]);
    const up = await turn.next((m) => m.type === 'ready' || m.type === 'error', 20_000);
    expect(up, turn.diagnostics()).toEqual({ type: 'ready' });
  });
  afterAll(async () => {
    await turn?.stop(2_000);
  });

  it('direct blocked in one host, no TURN configured by either user: the call is active via TURN', async () => {
    const { b } = bed().hosts;
    await b.blockAllExcept({ tcpPorts: [world.relay.port], udpPorts: [TURN_PORT] });
    try {
      await alice.openChat('Bob');
      const { atCaller: atAlice, atCallee: atBob } = await placeVideoCall(alice, bob);
      // TURN, not relay media: should relay media win the head start on a loaded machine, the call moves to
      // TURN once it connects.
      for (const user of [alice, bob]) {
        await expect
          .poll(() => user.page.getByTestId('media-path').getAttribute('data-path'), { timeout: 30_000 })
          .toBe('turn');
      }
      await callDialog(bob, 'Alice').getByRole('button', { name: 'Statistics' }).click();
      await expect
        .poll(() => bob.page.locator('[data-stat="path"]').textContent(), { timeout: 15_000 })
        .toMatch(/TURN/i);
      await expect.poll(() => bob.page.locator('[data-stat="in"]').textContent(), { timeout: 15_000 }).toMatch(/\d/);
      await screenshot(bob.page, 'call-turn-from-relay');
      await atAlice.getByTestId('hang-up').click();
      await atBob.and(bob.page.locator('[data-phase="ended"]')).waitFor({ timeout: 15_000 });
      expect(alice.unexpectedProblems()).toEqual([]);
      expect(bob.unexpectedProblems()).toEqual([]);
    } finally {
      // A failed attempt leaves no call open for the retry.
      await hangUpLeftoverCall(alice, bob);
      await b.unblock();
    }
  });
});
