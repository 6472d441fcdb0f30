// The headless `parley` command (Node, @roamhq/wrtc) and the web client (Chromium) interoperate: they add
// each other by invite, chat both ways and exchange a file both ways with SHA-256 equal. The CLI runs in
// one namespace host, Chromium in another, the relay (serving the client) in a third.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWebWorld } from '../harness/app/web-world.js';
import { jsonOf, LiveCli, newHome, parley } from '../integration/cli/harness.js';
import { AppUser, randomFile, screenshot, sha256File } from '../harness/app/app.js';

const world = useWebWorld({ users: ['app'], others: ['cli'] });
const bed = world.bed;
const SIZE = 20 * 1024 * 1024;

describe('web client ↔ parley command', () => {
  let user: AppUser;
  let home: string;
  let cliId: string;
  const dir = mkdtempSync(join(tmpdir(), 'parley-e2e-cli-'));
  const live: LiveCli[] = [];

  beforeAll(async () => {
    home = await newHome('interop');
  });

  afterAll(async () => {
    for (const l of live) await l.stop('SIGTERM').catch(() => undefined);
    await user?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it('add each other by invite', async () => {
    const { cli } = bed().hosts;
    const id = await parley(cli, home, ['id', '--name', 'Headless', '--relay', world.relay.url, '--json']);
    expect(id.code, id.stderr).toBe(0);
    const [me] = jsonOf<{ id: string; invite: string }>(id);
    cliId = me!.id;

    user = await AppUser.open(world.browser('app'), world.relay.httpUrl, 'Dana');
    await user.createIdentity();
    await user.waitRelayOnline();
    await user.addContact(me!.invite, 'Headless');
    const add = await parley(cli, home, ['add', await user.inviteLink(), '--json']);
    expect(add.code, add.stderr).toBe(0);
    expect(jsonOf(add)[0]).toMatchObject({ name: 'Dana', added: true });
  });

  it('app → parley: a message and a file, verified by the command', async () => {
    const dest = join(dir, 'received');
    const recv = LiveCli.start(bed().hosts.cli, home, ['receive', '--dir', dest]);
    live.push(recv);
    await recv.next((l) => l['type'] === 'ready', 60_000);

    await user.openChat('Headless');
    await user.send('Hello from the browser');
    const got = await recv.next((l) => l['type'] === 'message', 60_000);
    expect(got).toMatchObject({ name: 'Dana', text: 'Hello from the browser' });
    await user.waitDelivered('Hello from the browser');

    const src = join(dir, 'from-app.bin');
    const sent = await randomFile(src, SIZE);
    await user.sendFiles([src]);
    const file = await recv.next((l) => l['type'] === 'file', 180_000);
    expect(file).toMatchObject({ file: 'from-app.bin', state: 'verified', size: SIZE });
    expect(await sha256File(join(dest, String(file['savedAs'] ?? 'from-app.bin')))).toBe(sent);
    await user.waitTransfer('from-app.bin', 'done', 60_000);
    expect(await recv.stop('SIGINT')).toBe(0);
    live.splice(live.indexOf(recv), 1);
  });

  it('parley → app: a message and a file, saved by the app', async () => {
    const { cli } = bed().hosts;
    const say = await parley(cli, home, ['say', 'Dana', 'Hello from the terminal', '--json']);
    expect(say.code, say.stderr).toBe(0);
    expect(jsonOf(say)[0]).toMatchObject({
      type: 'delivered',
      to: expect.any(String),
      text: 'Hello from the terminal',
    });
    await user.message('Hello from the terminal').waitFor({ timeout: 30_000 });

    const src = join(dir, 'from-cli.bin');
    const sent = await randomFile(src, SIZE);
    const sending = parley(cli, home, ['send', 'Dana', src, '--json'], 240_000);
    await user.transferCard('from-cli.bin').getByRole('button', { name: 'Accept' }).click({ timeout: 60_000 });
    const r = await sending;
    expect(r.code, r.stderr).toBe(0);
    expect(jsonOf(r).find((l) => l['type'] === 'result')).toMatchObject({ ok: true });
    await user.waitTransfer('from-cli.bin', 'done', 60_000);
    await screenshot(user.page, 'cli-interop');
    expect(await sha256File(await user.saveReceived('from-cli.bin', dir))).toBe(sent);
    expect(cliId).toHaveLength(43);
    expect(user.unexpectedProblems()).toEqual([]);
  });
});
