import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, appendFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileKeyValueStore } from '../../../../platform/node/src/file-store.js';
import { acquireHomeLock, HomeLockedError } from '../../../../platform/node/src/home-lock.js';

const WRITER = join(import.meta.dirname, 'fixtures', 'store-writer.ts');
let home: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'parley-store-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(home, { recursive: true, force: true });
});

/** Starts the writer and resolves once it printed `until` (a line), with every line seen so far. */
function startWriter(count: number, until: string): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, home, String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (line === until) resolve({ child, lines });
    });
    child.on('exit', (code) => reject(new Error(`writer exited ${code} before "${until}": ${stderr}`)));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('FileKeyValueStore', () => {
  it('round-trips values, lists keys by prefix in order, deletes, and persists across reopen', async () => {
    const a = await FileKeyValueStore.open(home);
    await a.set('c/2', { n: 2 });
    await a.set('c/1', 'one');
    await a.set('d/1', [1, 2]);
    await a.set('c/10', null);
    expect(await a.keys('c/')).toEqual(['c/1', 'c/10', 'c/2']);
    await a.delete('c/10');
    const v = await a.get<{ n: number }>('c/2');
    v!.n = 99; // callers get copies: mutating one must not change the store
    await a.close();

    const b = await FileKeyValueStore.open(home);
    expect(await b.get('c/2')).toEqual({ n: 2 });
    expect(await b.get('c/1')).toBe('one');
    expect(await b.get('c/10')).toBeUndefined();
    expect(await b.keys('')).toEqual(['c/1', 'c/2', 'd/1']);
    await b.close();
  });

  it('rejects values that are not JSON', async () => {
    const s = await FileKeyValueStore.open(home);
    await expect(s.set('x', undefined)).rejects.toThrow(/not JSON-serialisable/);
    await s.close();
  });

  it('keeps every acknowledged write when the writer is killed with SIGKILL', async () => {
    const { child, lines } = await startWriter(2000, 'ack 200');
    await killed(child);
    const acked = lines.filter((l) => l.startsWith('ack ')).length;
    const s = await FileKeyValueStore.open(home);
    const keys = await s.keys('k/');
    // Everything acknowledged is there; at most the writes in flight at the kill may also be.
    expect(keys.length).toBeGreaterThanOrEqual(acked);
    for (let i = 0; i < acked; i++) expect(await s.get(`k/${String(i).padStart(5, '0')}`)).toMatchObject({ i });
    await s.close();
  });

  it('discards a torn final record and keeps appending cleanly', async () => {
    const a = await FileKeyValueStore.open(home);
    await a.set('a', 1);
    await a.close();
    await appendFile(join(home, 'store.jsonl'), '{"k":"b","v":"2');
    const b = await FileKeyValueStore.open(home);
    expect(await b.get('a')).toBe(1);
    expect(await b.get('b')).toBeUndefined();
    await b.set('c', 3);
    await b.close();
    const c = await FileKeyValueStore.open(home);
    expect(await c.keys('')).toEqual(['a', 'c']);
    await c.close();
  });

  it('skips a corrupt record in the middle but keeps a copy of the damaged file', async () => {
    await writeFile(join(home, 'store.jsonl'), '{"k":"a","v":"1"}\ngarbage\n{"k":"b","v":"2"}\n');
    const s = await FileKeyValueStore.open(home);
    expect(await s.get('a')).toBe(1);
    expect(await s.get('b')).toBe(2);
    await s.close();
    const files = await readdir(home);
    const copy = files.find((f) => f.startsWith('store.jsonl.corrupt-'));
    expect(copy).toBeDefined();
    expect(await readFile(join(home, copy!), 'utf8')).toContain('garbage');
    expect(await readFile(join(home, 'store.jsonl'), 'utf8')).not.toContain('garbage');
  });

  it('compacts a log dominated by overwrites without losing the latest values', async () => {
    const s = await FileKeyValueStore.open(home);
    const big = 'y'.repeat(4096);
    // ~3 MiB of overwrites of 8 keys: well past the compaction threshold.
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 800; i++) writes.push(s.set(`k${i % 8}`, { i, big }));
    await Promise.all(writes);
    await s.close();
    const size = (await stat(join(home, 'store.jsonl'))).size;
    expect(size).toBeLessThan(1024 * 1024);
    const r = await FileKeyValueStore.open(home);
    for (let k = 0; k < 8; k++) expect(await r.get(`k${k}`)).toMatchObject({ i: 792 + k });
    await r.close();
  });
});

describe('home lock', () => {
  it('refuses a second owner with a clear error while the first is alive', async () => {
    const { child } = await startWriter(0, 'locked');
    const err = await acquireHomeLock(home).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HomeLockedError);
    expect((err as Error).message).toContain(`another parley process is using ${home}`);
    expect((err as HomeLockedError).pid).toBe(child.pid);
    await killed(child);
  });

  it('reclaims a stale lock left by a dead process', async () => {
    const { child } = await startWriter(0, 'locked');
    await killed(child);
    const lock = await acquireHomeLock(home);
    expect(JSON.parse(await readFile(lock.path, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
    // Released: another acquire succeeds at once.
    const again = await acquireHomeLock(home);
    await again.release();
  });

  it('treats a lock naming a reused pid with another start time as stale', async () => {
    // Control: a lock naming this live process with its real start time is refused...
    const held = await acquireHomeLock(home);
    const real = JSON.parse(await readFile(held.path, 'utf8')) as { pid: number; start: string | null };
    expect(real.pid).toBe(process.pid);
    expect(real.start).toMatch(/^\d+$/);
    const err = await acquireHomeLock(home).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HomeLockedError);
    expect((err as HomeLockedError).pid).toBe(process.pid);
    await held.release();
    // ...while the same pid with another start time (a reused pid) is stale: reclaimed and rewritten.
    await writeFile(join(home, 'lock'), JSON.stringify({ pid: process.pid, start: 'not-my-start-time' }));
    const lock = await acquireHomeLock(home);
    expect(JSON.parse(await readFile(lock.path, 'utf8'))).toEqual(real);
    expect((await readdir(home)).filter((name) => name.includes('lock'))).toEqual(['lock']);
    await lock.release();
    expect(await readdir(home)).not.toContain('lock');
  });
});
