// `parley send` / `parley receive` through the real CLI and a loopback relay (--relay-only: no WebRTC
// in the root namespace). Hashes compared end to end; JSON line shapes checked.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, silentLogger, type RunningRelay } from '../../../signaling/server/index.js';
import { JsonChild, jsonLines, runCli, spawnCli, tempHome } from './helpers.js';

let relay: RunningRelay;
const temps: Array<{ dir: string; cleanup: () => Promise<void> }> = [];
const children: JsonChild[] = [];
let alice: string;
let bob: string;
let src: string;

async function temp(): Promise<string> {
  const t = await tempHome();
  temps.push(t);
  return t.dir;
}

function cli(home: string, args: string[]) {
  return runCli(['--relay-only', '--home', home, ...args]);
}

async function hashTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else
        out[relative(root, p)] = createHash('sha256')
          .update(await readFile(p))
          .digest('hex');
    }
  };
  await walk(root);
  return out;
}

beforeAll(async () => {
  relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger });
  alice = await temp();
  bob = await temp();
  const ia = await cli(alice, ['id', '--name', 'Alice', '--relay', relay.url, '--json']);
  const ib = await cli(bob, ['id', '--name', 'Bob', '--relay', relay.url, '--json']);
  const inviteA = (jsonLines(ia.stdout)[0] as { invite: string }).invite;
  const inviteB = (jsonLines(ib.stdout)[0] as { invite: string }).invite;
  expect((await cli(alice, ['add', inviteB])).code).toBe(0);
  expect((await cli(bob, ['add', inviteA])).code).toBe(0);
  src = await temp();
  await mkdir(join(src, 'album', 'raw'), { recursive: true });
  await writeFile(join(src, 'big.bin'), randomBytes(3 * 1024 * 1024 + 17));
  await writeFile(join(src, 'album', 'note – ünïcode.txt'), 'hello\n');
  await writeFile(join(src, 'album', 'raw', 'img.bin'), randomBytes(200_000));
  await writeFile(join(src, 'album', 'empty'), '');
}, 60_000);

afterAll(async () => {
  for (const c of children) await c.stop('SIGKILL');
  await relay?.close();
  for (const t of temps) await t.cleanup();
});

describe('send and receive', () => {
  it('sends files and a folder; receive --once saves them with equal hashes; both exit 0', async () => {
    const dest = await temp();
    const receiver = new JsonChild(
      spawnCli(['--relay-only', '--home', bob, '--json', 'receive', '--dir', dest, '--once']),
    );
    children.push(receiver);
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
    const receiver = new JsonChild(
      spawnCli(['--relay-only', '--home', bob, '--json', 'receive', '--dir', dest, '--once']),
    );
    children.push(receiver);
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
