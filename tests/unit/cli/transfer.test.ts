// `parley send` / `parley receive` through the real CLI and a loopback relay (--relay-only: no WebRTC
// in the root namespace). Hashes compared end to end; JSON line shapes checked.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashTree } from '../../harness/hash-tree.js';
import { useCliWorld } from './cli-world.js';
import { jsonLines } from './helpers.js';

const world = useCliWorld({ alice: 'Alice', bob: 'Bob' }, { contacts: [['alice', 'bob']] });
const { cli, temp } = world;
let alice: string;
let bob: string;
let src: string;

beforeAll(async () => {
  alice = world.users.alice.home;
  bob = world.users.bob.home;
  src = await temp();
  await mkdir(join(src, 'album', 'raw'), { recursive: true });
  await writeFile(join(src, 'big.bin'), randomBytes(3 * 1024 * 1024 + 17));
  await writeFile(join(src, 'album', 'note – ünïcode.txt'), 'hello\n');
  await writeFile(join(src, 'album', 'raw', 'img.bin'), randomBytes(200_000));
  await writeFile(join(src, 'album', 'empty'), '');
}, 60_000);

describe('send and receive', () => {
  it('sends files and a folder; receive --once saves them with equal hashes; both exit 0', async () => {
    const dest = await temp();
    const receiver = world.json(bob, ['receive', '--dir', dest, '--once']);
    await receiver.waitFor((l) => l['type'] === 'ready');
    const r = await cli(alice, ['send', 'Bob', join(src, 'big.bin'), join(src, 'album'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout) as Array<Record<string, unknown>>;
    expect(lines[0]).toMatchObject({ type: 'offer', total: 3 * 1024 * 1024 + 17 + 6 + 200_000 });
    const progress = lines.filter((l) => l['type'] === 'progress');
    for (const p of progress)
      expect(Object.keys(p).sort()).toEqual([
        'bytesDone',
        'eta',
        'file',
        'fileBytesDone',
        'fileSize',
        'offerId',
        'path',
        'route',
        'speed',
        'total',
        'type',
      ]);
    expect(lines.filter((l) => l['type'] === 'file').map((l) => [l['file'], l['state']])).toEqual([
      ['big.bin', 'verified'],
      ['album/empty', 'verified'],
      ['album/note – ünïcode.txt', 'verified'],
      ['album/raw/img.bin', 'verified'],
    ]);
    expect(lines.at(-1)).toMatchObject({ type: 'result', ok: true });

    expect(await receiver.exited).toBe(0);
    const saved = receiver.lines.filter((l) => l['type'] === 'file');
    expect(saved).toHaveLength(4);
    for (const f of saved) expect(f).toMatchObject({ state: 'verified', savedAs: f['file'] });
    expect(receiver.lines.at(-1)).toMatchObject({ type: 'done', ok: true });
    const want = await hashTree(src);
    expect(await hashTree(dest)).toEqual(want);
  }, 90_000);

  it('without a receiver, send exits 1 after --timeout and a re-run resumes the same offer', async () => {
    const file = join(await temp(), 'later.bin');
    await writeFile(file, randomBytes(100_000));
    const first = await cli(alice, ['send', 'Bob', file, '--timeout', '2', '--json']);
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('Run the same command again to resume');
    const firstOffer = (jsonLines(first.stdout) as Array<Record<string, unknown>>).find((l) => l['type'] === 'offer');

    const dest = await temp();
    const receiver = world.json(bob, ['receive', '--dir', dest, '--once']);
    await receiver.waitFor((l) => l['type'] === 'ready');
    const again = await cli(alice, ['send', 'Bob', file, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('resuming the earlier offer');
    const offer = (jsonLines(again.stdout) as Array<Record<string, unknown>>).find((l) => l['type'] === 'offer');
    expect(offer!['offerId']).toBe(firstOffer!['offerId']);
    expect(await receiver.exited).toBe(0);
    // One offer, one file: nothing duplicated.
    expect(receiver.lines.filter((l) => l['type'] === 'offer')).toHaveLength(1);
    expect(await readdir(dest)).toEqual(['later.bin']);
  }, 90_000);

  it('refuses missing paths and unknown contacts with exit 2', async () => {
    const missing = await cli(alice, ['send', 'Bob', join(src, 'nope.bin')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file or folder');
    const nobody = await cli(alice, ['send', 'Carol', join(src, 'big.bin')]);
    expect(nobody.code).toBe(2);
    const noDir = await cli(bob, ['receive']);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain('--dir');
  }, 60_000);
});
