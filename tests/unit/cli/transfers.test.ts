// Issue 14.3: the CLI owns its unfinished transfers. Every `send` used to resume *all* earlier unfinished
// offers to the contact in parallel (a stale one whose source was deleted failed and made `receive
// --once` exit 1), and there was no way to list or cancel them.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonLines } from './helpers.js';
import { useCliWorld } from './cli-world.js';

const world = useCliWorld({ alice: 'Alice', bob: 'Bob' }, { contacts: [['alice', 'bob']], timeoutMs: 120_000 });
const { cli, temp } = world;
let alice: string;
let bob: string;
beforeAll(() => {
  alice = world.users.alice.home;
  bob = world.users.bob.home;
});
type Row = { offerId: string; direction: string; state: string; files: Array<{ file: string }> };
const list = async (home: string, all = false): Promise<Row[]> => {
  const r = await cli(home, ['transfers', '--json', ...(all ? ['--all'] : [])]);
  expect(r.code, r.stderr).toBe(0);
  return jsonLines(r.stdout)[0] as Row[];
};

describe('unfinished transfers', () => {
  it('send resumes only its own offer, says others are pending; a stale offer with a deleted source does not run', async () => {
    const src = await temp();
    const stale = join(src, 'stale.bin');
    const wanted = join(src, 'wanted.bin');
    await writeFile(stale, randomBytes(50_000));
    await writeFile(wanted, randomBytes(80_000));
    expect((await cli(alice, ['send', 'Bob', stale, '--timeout', '2'])).code).toBe(1);
    const second = await cli(alice, ['send', 'Bob', wanted, '--timeout', '2']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('1 other unfinished offer(s)');
    const rows = await list(alice);
    expect(rows.map((r) => [r.direction, r.files[0]!.file])).toEqual([
      ['out', 'stale.bin'],
      ['out', 'wanted.bin'],
    ]);
    await rm(stale);

    const dest = await temp();
    const recv = world.json(bob, ['receive', '--dir', dest, '--once']);
    await recv.waitFor((l) => l['type'] === 'ready');
    const again = await cli(alice, ['send', 'Bob', wanted]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('resuming the earlier offer');
    // The stale offer can never finish: ended now and said once.
    expect(again.stderr).toContain('cancelled 1 earlier offer(s) to Bob');
    expect(again.stderr).toContain('whose files are gone: stale.bin');
    expect(again.stderr).not.toContain('other unfinished offer');
    expect(await recv.exited).toBe(0);
    expect(recv.lines.filter((l) => l['type'] === 'offer')).toHaveLength(1);
    expect(await readdir(dest)).toEqual(['wanted.bin']);

    expect(await list(alice)).toEqual([]);
    const all = await list(alice, true);
    expect(all.find((r) => r.files[0]!.file === 'stale.bin')?.state).toBe('cancelled');
    const third = await cli(alice, ['send', 'Bob', wanted, '--timeout', '2']);
    expect(third.stderr).not.toContain('stale.bin');

    // An offer Bob never got (he is offline now): cancelled here, not told.
    const later = join(src, 'later.bin');
    await writeFile(later, randomBytes(10_000));
    expect((await cli(alice, ['send', 'Bob', later, '--timeout', '2'])).code).toBe(1);
    const left = (await list(alice)).filter((r) => r.files[0]!.file === 'later.bin');
    expect(left).toHaveLength(1);
    // Ids are base64url: one in 64 starts with "-", which goes after "--" (else it reads as an option).
    const dashed = await cli(alice, ['cancel', '--timeout', '2', '--', '-nosuchoffer']);
    expect(dashed.stderr).not.toMatch(/unknown option/);
    expect(dashed.stderr).toMatch(/-nosuchoffer/);
    const cancel = await cli(alice, ['cancel', '--timeout', '2', '--json', '--', left[0]!.offerId.slice(0, 8)]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(jsonLines(cancel.stdout)[0]).toMatchObject({ type: 'cancelled', offerId: left[0]!.offerId, told: false });
    expect((await list(alice)).find((r) => r.offerId === left[0]!.offerId)).toBeUndefined();
    expect((await list(alice, true)).find((r) => r.offerId === left[0]!.offerId)?.state).toBe('cancelled');
  }, 240_000);

  it('cancel on one side ends the offer on the other: the receiver is told and drops its partial', async () => {
    const src = join(await temp(), 'big.bin');
    await writeFile(src, randomBytes(3 * 1024 * 1024));
    const dir = join(await temp(), 'small');
    await mkdir(dir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    world.onCleanup(() => execFileSync('umount', [dir]));
    // Bob's disk fills: the offer pauses on both sides and stays unfinished.
    const recv = world.json(bob, ['receive', '--dir', dir]);
    await recv.waitFor((l) => l['type'] === 'ready');
    expect((await cli(alice, ['send', 'Bob', src, '--timeout', '5'])).code).toBe(1);
    const paused = await recv.waitFor((l) => l['type'] === 'paused');
    const rows = await list(alice);
    const mine = rows.find((r) => r.offerId === paused['offerId']);
    expect(mine?.state).toBe('paused');
    // Alice cancels while Bob's receive is running: Bob is told.
    const cancel = await cli(alice, ['cancel', String(paused['offerId']), '--json']);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(jsonLines(cancel.stdout)[0]).toMatchObject({ told: true });
    await recv.waitFor((l) => l['type'] === 'done' && l['offerId'] === paused['offerId']);
    expect(await recv.stop('SIGINT')).toBe(0);
    expect((await readdir(dir)).filter((n) => n.endsWith('.part'))).toEqual([]);
    expect((await list(bob)).find((r) => r.offerId === paused['offerId'])).toBeUndefined();
  }, 240_000);
});
