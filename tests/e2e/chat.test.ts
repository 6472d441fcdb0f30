// Web client end to end: two Chromium users, each in its own network-namespace host, the relay (which
// serves the built client) in a third. Everything goes through the UI as a user would.
import { afterAll, describe, expect, it } from 'vitest';
import { useWebWorld } from '../harness/app/web-world.js';
import { AppUser, screenshot, unnamedControls } from '../harness/app/app.js';

const world = useWebWorld({ users: ['a', 'b'] });
const bed = world.bed;

describe('web client: chat', () => {
  let alice: AppUser;
  let bob: AppUser;

  afterAll(async () => {
    await alice?.close();
    await bob?.close();
  });

  it('two new users exchange invites and chat both ways', async () => {
    alice = await AppUser.open(world.browser('a'), world.relay.httpUrl, 'Alice Liddell');
    bob = await AppUser.open(world.browser('b'), world.relay.httpUrl, 'Bob');
    await alice.page.getByRole('heading', { name: 'Welcome to Parley' }).waitFor();
    // The relay URL defaults to the origin that served the page.
    await alice.page.getByText('Relay server').click();
    expect(await alice.page.getByLabel('Relay address').inputValue()).toBe(world.relay.url);
    await screenshot(alice.page, 'first-run');
    expect(await unnamedControls(alice.page)).toEqual([]);

    await Promise.all([alice.createIdentity(), bob.createIdentity()]);
    await Promise.all([alice.waitRelayOnline(), bob.waitRelayOnline()]);
    await screenshot(alice.page, 'contacts-empty');

    const aliceInvite = await alice.inviteLink('invite-qr');
    const bobInvite = await bob.inviteLink();
    expect(aliceInvite).toMatch(/^parley:\/\/invite\?v=1&/);
    expect(new URLSearchParams(aliceInvite.split('?')[1]).get('relay')).toBe(world.relay.url);

    // A toast raised while a modal dialog is open shows on top of it and can be dismissed there (a modal
    // sits in the top layer and makes the page inert: a toast left in the page would be hidden under it).
    await alice.page.getByRole('button', { name: 'Your invite', exact: true }).click();
    const inviteDialog = alice.page.getByRole('dialog', { name: 'Your invite' });
    await inviteDialog.getByRole('button', { name: 'Copy link', exact: true }).click();
    const toast = inviteDialog.getByText(/^(Invite link copied|Could not copy)/);
    await toast.waitFor();
    const onTop = await toast.evaluate((el) => {
      const r = el.getBoundingClientRect();
      return el.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2));
    });
    expect(onTop).toBe(true);
    // Without `force`: Playwright refuses a click that another element would intercept.
    await inviteDialog.getByRole('button', { name: 'Dismiss' }).click({ timeout: 5_000 });
    await toast.waitFor({ state: 'hidden' });
    expect(await inviteDialog.isVisible()).toBe(true);
    await inviteDialog.getByRole('button', { name: 'Close' }).first().click();
    await inviteDialog.waitFor({ state: 'hidden' });

    // A bad paste gets a clear error, and the add button stays disabled.
    await bob.page.getByRole('button', { name: 'Add contact' }).first().click();
    const dialog = bob.page.getByRole('dialog', { name: 'Add contact' });
    await dialog.getByLabel('Paste an invite link').fill('https://example.org/not-an-invite');
    await expect.poll(() => dialog.getByRole('alert').textContent()).toMatch(/not a Parley invite/);
    await screenshot(bob.page, 'add-contact-error');
    expect(await dialog.getByRole('button', { name: 'Add contact' }).isDisabled()).toBe(true);
    await bob.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    await bob.addContact(aliceInvite, 'Alice Liddell');
    await alice.addContact(bobInvite, 'Bob');

    await alice.openChat('Bob');
    await bob.openChat('Alice Liddell');
    await alice.send('Hello Bob, can you read this?');
    await bob.message('Hello Bob, can you read this?').waitFor({ timeout: 30_000 });
    await alice.waitDelivered('Hello Bob, can you read this?');

    const long = `Yes! Here is the link: https://example.org/some/very/long/path?with=query ${'and a long line that wraps '.repeat(12)}`;
    await bob.send(long);
    await alice.message('Yes! Here is the link').waitFor({ timeout: 30_000 });
    await bob.waitDelivered('Yes! Here is the link');

    // Shift+Enter makes a new line instead of sending.
    const box = alice.page.getByRole('textbox', { name: 'Message to Bob' });
    await box.fill('first line');
    await box.press('Shift+Enter');
    await box.pressSequentially('second line');
    expect(await box.inputValue()).toBe('first line\nsecond line');
    await box.press('Enter');
    await bob.message('second line').waitFor({ timeout: 30_000 });
    expect(await bob.message('second line').locator('p.text').innerText()).toBe('first line\nsecond line');

    // Links are shown, never opened without asking.
    await alice.page.getByRole('button', { name: 'https://example.org/some/very/long/path?with=query' }).click();
    const ask = alice.page.getByRole('dialog', { name: 'Open link?' });
    await ask.getByText('example.org', { exact: false }).first().waitFor();
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await ask.waitFor({ state: 'hidden' });
    expect(alice.context.pages()).toHaveLength(1);

    // Both UDP-capable hosts: the session goes direct, and the header says so.
    await Promise.all([alice.waitHeaderPath('direct', 60_000), bob.waitHeaderPath('direct', 60_000)]);
    await screenshot(alice.page, 'chat');
    await screenshot(bob.page, 'chat-bob');
    expect(await unnamedControls(alice.page)).toEqual([]);

    // Unread count: a message to Alice while she looks at another screen shows in her list.
    await alice.page.getByRole('button', { name: 'Settings' }).click();
    await screenshot(alice.page, 'settings');
    expect(await unnamedControls(alice.page)).toEqual([]);
    await alice.page.keyboard.press('Escape');
    await alice.page.getByRole('dialog', { name: 'Settings' }).waitFor({ state: 'hidden' });

    expect(alice.unexpectedProblems()).toEqual([]);
    expect(bob.unexpectedProblems()).toEqual([]);
  });

  it('works from the keyboard: Tab into the contact list, Enter opens the chat, Enter sends, Escape closes dialogs', async () => {
    const p = alice.page;
    await p.getByRole('searchbox', { name: 'Search contacts' }).focus();
    await p.keyboard.press('Tab');
    expect(await p.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('option');
    await p.keyboard.press('Enter');
    await p.getByRole('region', { name: 'Conversation with Bob' }).waitFor();
    await p.getByRole('textbox', { name: 'Message to Bob' }).focus();
    await p.keyboard.type('Typed without a mouse');
    await p.keyboard.press('Enter');
    await bob.message('Typed without a mouse').waitFor({ timeout: 30_000 });
    // The safety-number dialog opens from the header and closes with Escape, focus back on its button.
    const safety = p.getByRole('button', { name: 'Safety number' });
    await safety.focus();
    await p.keyboard.press('Enter');
    const dialog = p.getByRole('dialog', { name: 'Verify safety number' });
    await dialog.getByTestId('safety-number').waitFor();
    const digits = (await dialog.getByTestId('safety-number').innerText()).replace(/\s+/g, '');
    expect(digits).toMatch(/^\d{60}$/);
    await screenshot(p, 'safety-number');
    await p.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await safety.evaluate((el) => el === document.activeElement)).toBe(true);
    // Both sides see the same number: mark verified on Bob's side after comparing.
    await bob.page.getByRole('button', { name: 'Safety number' }).click();
    const bobDialog = bob.page.getByRole('dialog', { name: 'Verify safety number' });
    await bobDialog.getByLabel('Or paste the number they sent you to compare').fill(digits);
    await bobDialog.getByText('The numbers match').waitFor();
    await bobDialog.getByRole('button', { name: 'Mark as verified' }).click();
    await bobDialog.getByText('You have verified Alice Liddell.').waitFor();
    await bob.page.keyboard.press('Escape');
    await bob
      .contactRow('Alice Liddell')
      .and(bob.page.getByRole('option', { name: /Verified/ }))
      .waitFor();

    // A narrow window shows one pane at a time, with a way back to the list.
    await p.setViewportSize({ width: 420, height: 720 });
    await p.getByRole('button', { name: 'Back to chats' }).click();
    await alice.contactRow('Bob').waitFor();
    await screenshot(p, 'narrow-list');
    await alice.openChat('Bob');
    await screenshot(p, 'narrow-chat');
    await p.setViewportSize({ width: 1100, height: 720 });
  });

  it('a page reload restores contacts and history; unread counts while the chat is closed', async () => {
    await alice.reload();
    await alice.contactRow('Bob').waitFor({ timeout: 30_000 });
    await alice.waitRelayOnline();
    // No chat is open after a reload: a new message counts as unread in the list.
    await bob.send('Are you there?');
    await alice.page.getByRole('option', { name: /^Bob,.*1 unread message/ }).waitFor({ timeout: 30_000 });
    await screenshot(alice.page, 'contacts-unread');
    await alice.openChat('Bob');
    await alice.message('Hello Bob, can you read this?').waitFor();
    await alice.message('Yes! Here is the link').waitFor();
    await alice.message('Are you there?').waitFor();
    await alice.page
      .getByRole('option', { name: /^Bob,/ })
      .and(alice.page.getByRole('option', { name: /unread/ }))
      .waitFor({ state: 'detached' });
    // And the restored session still carries messages both ways.
    await alice.send('Back after a reload');
    await bob.message('Back after a reload').waitFor({ timeout: 30_000 });
    await bob.send('Welcome back');
    await alice.message('Welcome back').waitFor({ timeout: 30_000 });
    expect(alice.unexpectedProblems()).toEqual([]);
  });

  it('long history loads page by page when scrolling up', async () => {
    const N = 70;
    for (let i = 1; i <= N; i++) await bob.send(`numbered message ${i}`);
    await alice.message(`numbered message ${N}`).waitFor({ timeout: 60_000 });
    await alice.reload();
    await alice.openChat('Bob');
    await alice.message(`numbered message ${N}`).waitFor();
    // Only the newest page is in the DOM at first.
    expect(await alice.message('numbered message 1', { exact: true }).count()).toBe(0);
    const scroller = alice.page.getByRole('region', { name: 'Conversation with Bob' });
    for (let i = 0; i < 20 && (await alice.message('numbered message 1', { exact: true }).count()) === 0; i++) {
      await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
      await alice.page.waitForFunction(() => !document.querySelector('.loading'), undefined, { timeout: 10_000 });
    }
    await alice.message('numbered message 1', { exact: true }).waitFor();
    await alice.page.getByText('This is the beginning of your conversation with Bob.').waitFor();
    // Order is kept across pages.
    const texts = await alice.page.locator('[data-message-id] p.text').allInnerTexts();
    const numbers = texts
      .map((t) => /^numbered message (\d+)$/.exec(t)?.[1])
      .filter(Boolean)
      .map(Number);
    expect(numbers).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  });

  it('with UDP blocked in one host, chat still works and the UI shows the relay path', async () => {
    const { b } = bed().hosts;
    await b.blockUdp();
    try {
      // Fresh sessions on both sides: Chromium cannot reach Chromium over ICE-TCP, so only the relay remains.
      await Promise.all([alice.reload(), bob.reload()]);
      await Promise.all([alice.openChat('Bob'), bob.openChat('Alice Liddell')]);
      await alice.send('Through the relay?');
      await bob.message('Through the relay?').waitFor({ timeout: 30_000 });
      await bob.send('Through the relay, end-to-end encrypted.');
      await alice.message('Through the relay, end-to-end encrypted.').waitFor({ timeout: 30_000 });
      await alice.waitDelivered('Through the relay?');
      await Promise.all([alice.waitHeaderPath('relay'), bob.waitHeaderPath('relay')]);
      // The status bar names the path too.
      expect(await alice.page.locator('footer.status [data-path]').getAttribute('data-path')).toBe('relay');
      await screenshot(bob.page, 'chat-relay');
      // The other language, in the same state (every string is translated; see tests/unit/renderer).
      await bob.page.getByRole('button', { name: 'Settings' }).click();
      const settings = bob.page.getByRole('dialog', { name: 'Settings' });
      await settings.getByLabel('Language').selectOption('zh');
      // The language applies at once (the dialog's own title too) and is kept when the dialog is closed
      // with Escape, without Save (issue 14.5): it used to fall back to English silently.
      await bob.page.getByRole('dialog', { name: '设置' }).waitFor();
      await bob.page.keyboard.press('Escape');
      await bob.page.getByRole('dialog', { name: '设置' }).waitFor({ state: 'hidden' });
      await bob.page.getByRole('navigation', { name: '聊天' }).waitFor();
      await bob.reload();
      await bob.page.getByRole('navigation', { name: '聊天' }).waitFor();
      await bob.page.locator('[data-contact-id]').first().click();
      await bob.page.getByText('经由中继').first().waitFor();
      await screenshot(bob.page, 'chat-zh');
      await bob.page.emulateMedia({ colorScheme: 'dark' });
      await screenshot(bob.page, 'chat-zh-dark');
      await bob.page.emulateMedia({ colorScheme: 'light' });
    } finally {
      await b.unblock();
    }
    expect(alice.unexpectedProblems()).toEqual([]);
    expect(bob.unexpectedProblems()).toEqual([]);
  });
});
