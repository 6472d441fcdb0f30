// Issue 14.5 in the web client: adding someone by their invite sends a contact request they accept, decline or
// block; the adder waits ("Waiting for Alice to accept") and sees no presence until then. Three Chromium users
// in their own network-namespace hosts, the relay serving the client in a fourth; driven by visible names.
import { afterAll, describe, expect, it } from 'vitest';
import { useWebWorld } from '../harness/app/web-world.js';
import { AppUser, screenshot, unnamedControls } from '../harness/app/app.js';

const world = useWebWorld({ users: ['a', 'b', 'c'] });

describe('web client: contact requests', () => {
  const users: AppUser[] = [];

  afterAll(async () => {
    for (const u of users) await u.close();
  });

  it('Bob asks, Alice checks the safety number and accepts; Mallory is blocked and learns nothing', async () => {
    const [alice, bob, mallory] = await Promise.all([
      AppUser.open(world.browser('a'), world.relay.httpUrl, 'Alice'),
      AppUser.open(world.browser('b'), world.relay.httpUrl, 'Bob'),
      AppUser.open(world.browser('c'), world.relay.httpUrl, 'Mallory'),
    ]);
    users.push(alice, bob, mallory);
    await Promise.all(users.map((u) => u.createIdentity()));
    await Promise.all(users.map((u) => u.waitRelayOnline()));
    const aliceInvite = await alice.inviteLink();

    // Bob adds Alice: his side waits, with no presence.
    await bob.addContact(aliceInvite, 'Alice');
    await bob.contactRow('Alice').getByText('Waiting for Alice to accept').waitFor();
    await bob.openChat('Alice');
    await bob.page.locator('.chat-header').getByText('Waiting for Alice to accept').waitFor();
    await bob.send('Hi Alice, it is Bob from the climbing club');

    // Alice sees a request, not a contact.
    const card = alice.page.getByRole('listitem', { name: 'Bob wants to connect' });
    await card.waitFor({ timeout: 30_000 });
    expect(await alice.page.getByRole('listbox', { name: 'Contacts' }).count()).toBe(0);
    await card.getByRole('button', { name: 'Safety number' }).click();
    const aliceNumber = (await card.getByTestId('request-safety-number').innerText()).replace(/\s+/g, ' ').trim();
    expect(aliceNumber).toMatch(/^(\d{5} ){11}\d{5}$/);
    await screenshot(alice.page, 'contact-request');
    expect(await unnamedControls(alice.page)).toEqual([]);

    // Mallory also asks; Alice blocks her.
    await mallory.addContact(aliceInvite, 'Alice');
    const malloryCard = alice.page.getByRole('listitem', { name: 'Mallory wants to connect' });
    await malloryCard.waitFor({ timeout: 30_000 });
    await malloryCard.getByRole('button', { name: 'Block' }).click();
    await malloryCard.waitFor({ state: 'hidden' });

    await card.getByRole('button', { name: 'Accept' }).click();
    await card.waitFor({ state: 'hidden' });
    await alice.contactRow('Bob').waitFor();
    // The message Bob wrote while waiting arrives once she accepts; both now see each other online.
    await alice.message('Hi Alice, it is Bob from the climbing club').waitFor({ timeout: 30_000 });
    await bob.page.locator('.chat-header').getByText('Online', { exact: true }).waitFor({ timeout: 30_000 });
    await bob.waitDelivered('Hi Alice, it is Bob from the climbing club');
    // The safety number Bob sees for Alice is the one Alice checked on the request.
    await bob.page.locator('.chat-header').getByRole('button', { name: 'Safety number' }).click();
    const safety = bob.page.getByRole('dialog', { name: 'Verify safety number' });
    const bobNumber = (await safety.getByTestId('safety-number').innerText()).replace(/\s+/g, ' ').trim();
    expect(bobNumber).toBe(aliceNumber);
    await bob.page.keyboard.press('Escape');

    // Mallory: still waiting, never told, never shown Alice online.
    await mallory.contactRow('Alice').getByText('Waiting for Alice to accept').waitFor();
    expect(await mallory.contactRow('Alice').getAttribute('aria-label')).not.toMatch(/Online/);
    for (const u of users) expect(u.unexpectedProblems()).toEqual([]);
  });
});
