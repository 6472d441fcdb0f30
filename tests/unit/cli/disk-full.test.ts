// Issue 14.3: a full disk on the receiving side. `send --timeout 30` ran for 119 s and blamed the contact
// being offline; `receive --once` never exited on the paused offer. Now both end in time naming the real
// cause, the partial is kept, and after space is freed the same command resumes from it: hashes equal,
// almost nothing sent twice. A real full disk: a small tmpfs the test mounts (and unmounts).
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCliWorld } from './cli-world.js';

const TOTAL = 12 * 1024 * 1024;
const world = useCliWorld({ alice: 'Alice', bob: 'Bob' }, { contacts: [['alice', 'bob']], timeoutMs: 120_000 });
const { cli, temp } = world;
let alice: string;
let bob: string;
beforeAll(() => {
  alice = world.users.alice.home;
  bob = world.users.bob.home;
});

describe('receiver disk full', () => {
  it('both sides end in time naming the full disk; after freeing space the same command resumes from the partial', async () => {
    const src = join(await temp(), 'big.bin');
    const data = randomBytes(TOTAL);
    await writeFile(src, data);
    const dir = join(await temp(), 'mnt');
    await mkdir(dir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', dir]);
    world.onCleanup(() => execFileSync('umount', [dir]));

    const recv = world.json(bob, ['receive', '--dir', dir, '--once']);
    await recv.waitFor((l) => l['type'] === 'ready');
    const sent = await cli(alice, ['send', 'Bob', src, '--timeout', '8']);
    expect(sent.code).toBe(1);
    expect(sent.stderr).toContain('disk is full');
    expect(sent.stderr).not.toContain('offline');
    expect(await recv.exited).toBe(1);
    expect(recv.lines.find((l) => l['type'] === 'paused')).toMatchObject({ error: { code: 'disk-full' } });
    expect(recv.stderr).toContain('this disk is full');
    const partials = (await readdir(dir)).filter((n) => n.endsWith('.part'));
    expect(partials).toHaveLength(1);
    const kept = (await stat(join(dir, partials[0]!))).size;
    expect(kept).toBeGreaterThan(TOTAL / 4);

    // Free space, run the same commands again.
    execFileSync('mount', ['-o', 'remount,size=64m', dir]);
    const before = world.relay.stats().bytesForwarded;
    const recv2 = world.json(bob, ['receive', '--dir', dir, '--once']);
    await recv2.waitFor((l) => l['type'] === 'ready');
    const again = await cli(alice, ['send', 'Bob', src, '--timeout', '60']);
    expect(again.code, again.stderr).toBe(0);
    expect(await recv2.exited).toBe(0);
    const got = await readFile(join(dir, 'big.bin'));
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    // Everything the relay carried in the second run beyond what was missing: re-sent data plus framing.
    const carried = world.relay.stats().bytesForwarded - before;
    const resent = carried - (TOTAL - kept);
    console.log(JSON.stringify({ total: TOTAL, kept, carried, resent, resentPct: (100 * resent) / TOTAL }));
    expect(resent).toBeLessThanOrEqual(0.01 * TOTAL);
  }, 240_000);
});
