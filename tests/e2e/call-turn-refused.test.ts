// Web client end to end (#11 item 8), the negative: the relay's operator gave it the wrong TURN secret, so
// the coturn (use-auth-secret) in its own host refuses every credential the relay hands out. With only the
// relay's TCP port and the TURN server's UDP port open in one host the call neither hangs nor fails: it is
// active over relay media, and the call view says so.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../testbed/index.js';
import { useWebWorld } from '../harness/app/web-world.js';
import { hangUpLeftoverCall, placeVideoCall } from '../harness/app/calls.js';
import type { AppUser } from '../harness/app/app.js';

const TURN_SCRIPT = fileURLToPath(new URL('../integration/call/peers/turn-host.ts', import.meta.url));
const TURN_PORT = 3478;
const SECRET = 'e2e-coturn-static-auth-secret';

const world = useWebWorld({
  users: ['a', 'b'],
  others: ['turn'],
  launch: () => ({ media: true, extraArgs: ['--autoplay-policy=no-user-gesture-required'] }),
  pair: ['Alice', 'Bob'],
  relayTurn: (hosts) => ({
    urls: [`turn:${hosts.turn.address}:${TURN_PORT}?transport=udp`],
    secret: `${SECRET}-not-coturns`,
  }),
});
const bed = world.bed;

describe('web client: the relay hands out TURN credentials the TURN server refuses', () => {
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

  it('direct blocked in one host and TURN refused: the call is active over relay media', async () => {
    const { b } = bed().hosts;
    await b.blockAllExcept({ tcpPorts: [world.relay.port], udpPorts: [TURN_PORT] });
    try {
      await alice.openChat('Bob');
      const { atCaller: atAlice, atCallee: atBob } = await placeVideoCall(alice, bob);
      for (const user of [alice, bob]) {
        await expect
          .poll(() => user.page.getByTestId('media-path').getAttribute('data-path'), { timeout: 30_000 })
          .toBe('relay');
      }
      // Still active on both sides (not failed with turn-unreachable, as a peer without relay media would).
      expect(await atAlice.getAttribute('data-phase')).toBe('active');
      expect(await atBob.getAttribute('data-phase')).toBe('active');
      await atAlice.getByTestId('hang-up').click();
      await atBob.and(bob.page.locator('[data-phase="ended"]')).waitFor({ timeout: 15_000 });
      expect(alice.unexpectedProblems()).toEqual([]);
      expect(bob.unexpectedProblems()).toEqual([]);
    } finally {
      await hangUpLeftoverCall(alice, bob);
      await b.unblock();
    }
  });
});
