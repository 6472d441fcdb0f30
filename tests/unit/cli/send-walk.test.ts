// The folder walk behind `parley send <path...>` on a real temporary folder.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { walkForSend } from '../../../cli/src/send-walk.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-send-walk-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('walkForSend', () => {
  it('sends files under their names and folders as trees, skipping links and refused names', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'album/b/c'), { recursive: true });
    mkdirSync(join(dir, 'album/a'));
    writeFileSync(join(dir, 'album/a/1.jpg'), 'one');
    writeFileSync(join(dir, 'album/b/c/2.txt'), 'two');
    writeFileSync(join(dir, 'album/z.md'), 'zed');
    writeFileSync(join(dir, 'album/CON'), 'device name');
    symlinkSync('/etc/passwd', join(dir, 'album/link'));
    writeFileSync(join(dir, 'single.bin'), new Uint8Array(5));
    const { files, skipped } = await walkForSend([join(dir, 'album'), join(dir, 'single.bin')]);
    expect(files.map((f) => [f.relativePath, f.size, f.mime])).toEqual([
      ['album/z.md', 3, 'text/markdown'],
      ['album/a/1.jpg', 3, 'image/jpeg'],
      ['album/b/c/2.txt', 3, 'text/plain'],
      ['single.bin', 5, 'application/octet-stream'],
    ]);
    expect(files.every((f) => f.source.startsWith(dir) && f.mtime! > 0)).toBe(true);
    expect(skipped.map((s) => [s.path.slice(dir.length), s.reason])).toEqual([
      ['/album/CON', 'name refused: Windows device name'],
      ['/album/link', 'symbolic link'],
    ]);
  });

  it('fails clearly for a missing path', async () => {
    await expect(walkForSend([join(tempDir(), 'missing')])).rejects.toMatchObject({ code: 'source-unreadable' });
  });
});
