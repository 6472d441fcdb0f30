// A contact turned hostile (issue 12.7): a modified `parley` command sends a chat message whose
// `sentAt` is 1e16, past the largest JavaScript Date. Before the fix the web client stored it and every
// render of the conversation threw RangeError, blanking the chat for good. Now the time is bounded when
// the message arrives, formatting never throws, and one bad item cannot blank a view.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWebWorld } from '../harness/app/web-world.js';
import { jsonOf, MAIN, newHome, parley } from '../integration/cli/harness.js';
import { AppUser, screenshot } from '../harness/app/app.js';

const world = useWebWorld({ users: ['app'], others: ['cli'] });
const bed = world.bed;
const HOSTILE = fileURLToPath(new URL('../harness/app/hostile-sent-at.ts', import.meta.url));

describe('web client: a hostile contact', () => {
  let user: AppUser;
  let home: string;

  beforeAll(async () => {
    home = await newHome('hostile');
  });

  afterAll(async () => {
    await user?.close();
    rmSync(home, { recursive: true, force: true });
  });

  /** `parley say` from the contact; `hostile` makes it stamp the message with sentAt 1e16. */
  async function say(text: string, hostile = false): Promise<void> {
    const { cli } = bed().hosts;
    const loader = hostile ? ['--import', HOSTILE] : [];
    const r = await cli.exec(
      process.execPath,
      ['--import', 'tsx', ...loader, MAIN, '--home', home, 'say', 'Dana', text, '--json'],
      { allowFailure: true, timeoutMs: 90_000 },
    );
    expect(r.code, r.stderr).toBe(0);
  }

  it('a message stamped sentAt 1e16 does not break the conversation', async () => {
    const { cli } = bed().hosts;
    const id = await parley(cli, home, ['id', '--name', 'Mallory', '--relay', world.relay.url, '--json']);
    expect(id.code, id.stderr).toBe(0);
    const [me] = jsonOf<{ invite: string }>(id);
    user = await AppUser.open(world.browser('app'), world.relay.httpUrl, 'Dana');
    await user.createIdentity();
    await user.waitRelayOnline();
    await user.addContact(me!.invite, 'Mallory');
    const add = await parley(cli, home, ['add', await user.inviteLink(), '--json']);
    expect(add.code, add.stderr).toBe(0);
    await user.openChat('Mallory');

    await say('Before the bad one');
    await user.message('Before the bad one').waitFor({ timeout: 30_000 });
    await say('From the year 318857', true);
    await user.message('From the year 318857').waitFor({ timeout: 30_000 });
    await say('After the bad one');
    await user.message('After the bad one').waitFor({ timeout: 30_000 });

    // The bad stamp was replaced by the time it arrived: within a day of now, as the others.
    const stamps = await user.page
      .locator('[data-message-id] time')
      .evaluateAll((els) => els.map((el) => Date.parse(el.getAttribute('datetime') ?? '')));
    expect(stamps).toHaveLength(3);
    for (const at of stamps) expect(Math.abs(at - Date.now())).toBeLessThan(24 * 3600_000);
    await screenshot(user.page, 'hostile-sent-at');

    // The stored conversation renders again after a reload, and the contact list too.
    await user.reload();
    await user.openChat('Mallory');
    await user.message('Before the bad one').waitFor();
    await user.message('From the year 318857').waitFor();
    await user.message('After the bad one').waitFor();
    expect(user.unexpectedProblems()).toEqual([]);
  });
});
