// Issue 12.10 and 12.11: what a hostile contact could do to a headless `parley receive`.
// - dot-paths (.ssh/authorized_keys, .config/autostart/x.desktop, .git/hooks/...) were accepted;
// - two names differing only in case landed on each other on case-insensitive disks;
// - the receive folder could be the home directory or inside a git repository;
// - `mkdir -p` ran before the containment check, so a symlinked folder already in the receive folder
//   let a peer create directories outside it.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeFileSink } from '../../../platform/node/src/file-io.js';
import { receiveDirProblem, receivePathsProblem } from '../../../cli/src/receive-policy.js';
import { useCliWorld } from './cli-world.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-recv-safety-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('receivePathsProblem', () => {
  it('refuses leading-dot segments anywhere in a path, unless allowed', () => {
    for (const p of [
      '.ssh/authorized_keys',
      '.config/autostart/x.desktop',
      'project/.git/hooks/pre-commit',
      '.bashrc',
      'a/.hidden',
    ]) {
      expect(receivePathsProblem(['ok.txt', p]), p).toMatch(/starts with a dot/);
      expect(receivePathsProblem([p], { allowDotFiles: true }), p).toBeNull();
    }
    expect(receivePathsProblem(['photos/a.jpg', 'notes..txt', 'x.tar.gz'])).toBeNull();
  });

  it('refuses names that differ only in letter case, files and folders alike', () => {
    expect(receivePathsProblem(['Notes.txt', 'notes.txt'])).toMatch(/only in letter case/);
    expect(receivePathsProblem(['Docs/a.txt', 'docs/b.txt'])).toMatch(/only in letter case/);
    expect(receivePathsProblem(['readme', 'README/x'])).toMatch(/only in letter case/);
    expect(receivePathsProblem(['Cafe\u0301.txt', 'CAFÉ.txt'])).toMatch(/only in letter case/);
    expect(receivePathsProblem(['Docs/a.txt', 'Docs/b.txt', 'docs.txt'])).toBeNull();
  });
});

describe('receiveDirProblem', () => {
  it('refuses the home directory, a folder above it, and folders inside a git repository', async () => {
    const root = tempDir();
    const home = join(root, 'home', 'ada');
    mkdirSync(home, { recursive: true });
    expect(await receiveDirProblem(home, home)).toMatch(/is your home directory/);
    expect(await receiveDirProblem(join(root, 'home'), home)).toMatch(/contains your home directory/);
    expect(await receiveDirProblem(join(home, 'Downloads', 'parley'), home)).toBeNull();
    mkdirSync(join(root, 'repo', '.git'), { recursive: true });
    expect(await receiveDirProblem(join(root, 'repo', 'sub', 'in'), home)).toMatch(
      /inside the git repository at .*repo/,
    );
  });
});

describe('NodeFileSink folders', () => {
  it('never creates a folder outside the receive folder through a symlinked folder already there', async () => {
    const dir = tempDir();
    const outside = tempDir();
    symlinkSync(outside, join(dir, 'docs'));
    const sink = new NodeFileSink(dir);
    await expect(sink.open('docs/new/deeper/file.txt', { key: 'k', size: 1, mime: '' })).rejects.toMatchObject({
      code: 'bad-name',
    });
    // Before the fix mkdir -p had already made outside/new/deeper when the check refused.
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(outside, 'new'))).toBe(false);
  });

  it('still follows a symlinked folder that stays inside, and creates nested folders', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'real'));
    symlinkSync(join(dir, 'real'), join(dir, 'alias'));
    const sink = new NodeFileSink(dir);
    const f = await sink.open('alias/a/b/c.txt', { key: 'k', size: 1, mime: '' });
    await f.close();
    expect(readdirSync(join(dir, 'real', 'a', 'b')).length).toBe(1);
    await expect(
      sink.open('plain/x/y.txt', { key: 'k', size: 1, mime: '' }).then((h) => h.close()),
    ).resolves.toBeUndefined();
    expect(existsSync(join(dir, 'plain', 'x'))).toBe(true);
  });
});

describe('parley receive against a hostile sender (real CLI, loopback relay)', () => {
  const world = useCliWorld({ alice: 'Alice', bob: 'Bob' }, { contacts: [['alice', 'bob']] });
  const { temp } = world;
  const cli = (home: string, args: string[], env?: NodeJS.ProcessEnv) => world.cli(home, args, env ? { env } : {});
  let alice: string;
  let bob: string;
  beforeAll(() => {
    alice = world.users.alice.home;
    bob = world.users.bob.home;
  });

  it('declines an offer of .ssh/authorized_keys with the reason; nothing is written; both sides say why', async () => {
    const src = await temp();
    await mkdir(join(src, '.ssh'));
    await writeFile(join(src, '.ssh', 'authorized_keys'), 'ssh-ed25519 AAAA attacker\n');
    const dest = await temp();
    const receiver = world.json(bob, ['receive', '--dir', dest, '--once']);
    await receiver.waitFor((l) => l['type'] === 'ready');
    const sent = await cli(alice, ['send', 'Bob', join(src, '.ssh'), '--timeout', '30']);
    expect(sent.code).toBe(1);
    expect(sent.stderr).toContain('declined');
    expect(sent.stderr).toContain('starts with a dot');
    expect(await receiver.exited).toBe(1);
    expect(receiver.lines.find((l) => l['type'] === 'declined')).toMatchObject({
      reason: expect.stringMatching(/\.ssh.*starts with a dot/),
    });
    expect(receiver.stderr).toContain('starts with a dot');
    expect(await readdir(dest)).toEqual([]);
  }, 120_000);

  it('refuses to receive into the home directory or a git repository (exit 2)', async () => {
    const fakeHome = await temp();
    const home = await cli(bob, ['receive', '--dir', fakeHome, '--once'], { HOME: fakeHome });
    expect(home.code).toBe(2);
    expect(home.stderr).toContain('is your home directory');
    const repo = await temp();
    await mkdir(join(repo, '.git'));
    const inRepo = await cli(bob, ['receive', '--dir', join(repo, 'incoming'), '--once']);
    expect(inRepo.code).toBe(2);
    expect(inRepo.stderr).toContain('inside the git repository');
  }, 60_000);
});
