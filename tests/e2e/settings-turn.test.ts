// The web client's settings say when the relay provides a TURN server for calls (#11 item 8): the relay is
// started with TURN credentials to hand out (a TURN URL nobody contacts: no call is placed here).
import { afterAll, describe, expect, it } from 'vitest';
import { AppUser, unnamedControls } from '../harness/app/app.js';
import { useWebWorld } from '../harness/app/web-world.js';

const TURN_URL = 'turn:turn.parley.test:3478?transport=udp';
const world = useWebWorld({
  users: ['a'],
  relayTurn: () => ({ urls: [TURN_URL], secret: 'e2e-relay-turn-shared-secret' }),
});

describe('web client: TURN from the relay', () => {
  let alice: AppUser | undefined;
  afterAll(async () => {
    await alice?.close();
  });

  it('settings show the TURN server the relay provides, besides the servers the user adds', async () => {
    alice = await AppUser.open(world.browser('a'), world.relay.httpUrl, 'Alice');
    await alice.createIdentity();
    await alice.waitRelayOnline();
    await alice.page.getByRole('button', { name: 'Settings' }).click();
    const settings = alice.page.getByRole('dialog', { name: 'Settings' });
    const note = settings.getByTestId('relay-turn');
    await note.waitFor();
    expect(await note.textContent()).toContain(`Your relay provides a TURN server for calls: ${TURN_URL}`);
    expect(await unnamedControls(alice.page)).toEqual([]);
    expect(alice.unexpectedProblems()).toEqual([]);
  });
});
