import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FALLBACK_NAME, MAX_NAME_BYTES, numberedName, sanitizeFileName } from '../../../electron/main/file-names.js';
import { FileSinks, MAX_SINKS_PER_OWNER, PARTIAL_SUFFIX } from '../../../electron/main/file-sinks.js';

const base = mkdtempSync(join(tmpdir(), 'parley-sinks-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const fresh = () => mkdtempSync(join(base, 'd-'));
const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe('sanitizeFileName', () => {
  const cases: [string, string][] = [
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Windows\\system32\\evil.dll', 'evil.dll'],
    ['/absolute/path/x.txt', 'x.txt'],
    ['.bashrc', 'bashrc'],
    ['..', FALLBACK_NAME],
    ['', FALLBACK_NAME],
    ['   ', FALLBACK_NAME],
    ['a/', FALLBACK_NAME],
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['com1', '_com1'],
    ['LPT9.log', '_LPT9.log'],
    ['console.txt', 'console.txt'],
    ['what?.txt', 'what_.txt'],
    ['a<b>c:d"e|f*g', 'a_b_c_d_e_f_g'],
    ['tab\there.txt', 'tab_here.txt'],
    ['nul\u0000byte.txt', 'nul_byte.txt'],
    ['trailing dots...', 'trailing dots'],
    ['trailing space.txt  ', 'trailing space.txt'],
    ['invoice\u202Efdp.exe', 'invoice_fdp.exe'],
    ['日本語のファイル.txt', '日本語のファイル.txt'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => expect(sanitizeFileName(input)).toBe(expected));
  }

  it('caps the UTF-8 length, keeps the extension and whole characters', () => {
    const long = sanitizeFileName(`${'ж'.repeat(300)}.tar.gz`);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(long.endsWith('.gz')).toBe(true);
    expect(long).not.toContain('\uFFFD');
    expect(Buffer.byteLength(sanitizeFileName('😀'.repeat(100)))).toBeLessThanOrEqual(MAX_NAME_BYTES);
  });

  it('numbers names before the extension', () => {
    expect(numberedName('a.txt', 0)).toBe('a.txt');
    expect(numberedName('a.txt', 2)).toBe('a (2).txt');
    expect(numberedName('README', 1)).toBe('README (1)');
  });
});

describe('FileSinks', () => {
  it('writes to a partial file and renames it only on a complete close', async () => {
    const dir = fresh();
    const sinks = new FileSinks();
    const o = await sinks.openInDirectory(1, dir, 'a.bin', 6);
    await sinks.write(1, o.handle, bytes(4));
    expect(readdirSync(dir)).toEqual([`a.bin${PARTIAL_SUFFIX}`]);
    await sinks.write(1, o.handle, bytes(2, 2));
    await expect(sinks.close(1, o.handle)).resolves.toBe(join(dir, 'a.bin'));
    expect(readdirSync(dir)).toEqual(['a.bin']);
    expect([...readFileSync(join(dir, 'a.bin'))]).toEqual([1, 1, 1, 1, 2, 2]);
    expect(sinks.openCount()).toBe(0);
  });

  it('numbers the name when the file exists, and again if it appears before close', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'photo.jpg'), 'old');
    const sinks = new FileSinks();
    const o = await sinks.openInDirectory(1, dir, 'photo.jpg', 1);
    expect(o.name).toBe(join(dir, 'photo (1).jpg'));
    writeFileSync(join(dir, 'photo (1).jpg'), 'raced');
    await sinks.write(1, o.handle, bytes(1));
    await expect(sinks.close(1, o.handle)).resolves.toBe(join(dir, 'photo (2).jpg'));
    expect(readFileSync(join(dir, 'photo.jpg'), 'utf8')).toBe('old');
    expect(readFileSync(join(dir, 'photo (1).jpg'), 'utf8')).toBe('raced');
  });

  it('resumes a partial of the same name that is not larger than the declared size', async () => {
    const dir = fresh();
    writeFileSync(join(dir, `f.dat${PARTIAL_SUFFIX}`), bytes(10, 7));
    const sinks = new FileSinks();
    const o = await sinks.openInDirectory(1, dir, 'f.dat', 15);
    expect(o).toMatchObject({ name: join(dir, 'f.dat'), existingBytes: 10 });
    await expect(sinks.write(1, o.handle, bytes(6))).rejects.toThrow(/beyond the declared size/);
    await sinks.write(1, o.handle, bytes(5, 8));
    await sinks.close(1, o.handle);
    expect([...readFileSync(join(dir, 'f.dat'))]).toEqual([...bytes(10, 7), ...bytes(5, 8)]);
  });

  it('does not resume a larger partial (another transfer) or one already being written', async () => {
    const dir = fresh();
    writeFileSync(join(dir, `f.dat${PARTIAL_SUFFIX}`), bytes(100));
    const sinks = new FileSinks();
    const o = await sinks.openInDirectory(1, dir, 'f.dat', 50);
    expect(o).toMatchObject({ name: join(dir, 'f (1).dat'), existingBytes: 0 });
    const again = await sinks.openInDirectory(1, dir, 'f.dat', 50);
    expect(again.name).toBe(join(dir, 'f (2).dat'));
    expect(statSync(join(dir, `f.dat${PARTIAL_SUFFIX}`)).size).toBe(100);
  });

  it('abort keeps the partial file for a later resume; the handle is gone', async () => {
    const dir = fresh();
    const sinks = new FileSinks();
    const o = await sinks.openInDirectory(1, dir, 'keep.bin', 10);
    await sinks.write(1, o.handle, bytes(3));
    await sinks.abort(1, o.handle);
    expect(statSync(join(dir, `keep.bin${PARTIAL_SUFFIX}`)).size).toBe(3);
    await expect(sinks.write(1, o.handle, bytes(1))).rejects.toThrow(/unknown file handle/);
  });

  it('releasing a webContents ends its files only, keeping partials', async () => {
    const dir = fresh();
    const sinks = new FileSinks();
    const a = await sinks.openInDirectory(1, dir, 'a', 10);
    const b = await sinks.openInDirectory(2, dir, 'b', 10);
    await sinks.write(1, a.handle, bytes(2));
    await sinks.releaseOwner(1);
    expect(sinks.openCount(1)).toBe(0);
    expect(sinks.openCount(2)).toBe(1);
    expect(statSync(join(dir, `a${PARTIAL_SUFFIX}`)).size).toBe(2);
    await sinks.write(2, b.handle, bytes(10));
    await sinks.close(2, b.handle);
    await sinks.releaseAll();
  });

  it('bounds the files one webContents may keep open', async () => {
    const dir = fresh();
    const sinks = new FileSinks();
    for (let i = 0; i < MAX_SINKS_PER_OWNER; i++) await sinks.openInDirectory(1, dir, `f${i}`, 1);
    await expect(sinks.openInDirectory(1, dir, 'one-too-many', 1)).rejects.toThrow(/too many files open/);
    await expect(sinks.openInDirectory(2, dir, 'other-window', 1)).resolves.toBeTruthy();
    await sinks.releaseAll();
  });

  it('at a dialog-chosen path: resumes, refuses a non-file partial, and refuses double opens', async () => {
    const dir = fresh();
    const sinks = new FileSinks();
    const target = join(dir, 'chosen.bin');
    writeFileSync(target + PARTIAL_SUFFIX, bytes(4));
    const o = await sinks.openAtPath(1, target, 8);
    expect(o.existingBytes).toBe(4);
    await expect(sinks.openAtPath(1, target, 8)).rejects.toThrow(/already being written/);
    await sinks.write(1, o.handle, bytes(4, 9));
    await sinks.close(1, o.handle);
    expect([...readFileSync(target)]).toEqual([1, 1, 1, 1, 9, 9, 9, 9]);
    const weird = join(dir, 'weird.bin');
    mkdirSync(weird + PARTIAL_SUFFIX);
    await expect(sinks.openAtPath(1, weird, 1)).rejects.toThrow(/not a regular file/);
    const linked = join(dir, 'linked.bin');
    symlinkSync('/dev/null', linked + PARTIAL_SUFFIX);
    await expect(sinks.openAtPath(1, linked, 1)).rejects.toThrow(/not a regular file/);
  });

  it('reports a missing directory as a clear error', async () => {
    const sinks = new FileSinks();
    await expect(sinks.openInDirectory(1, join(base, 'no', 'such', 'dir'), 'x', 1)).rejects.toThrow(/ENOENT/);
  });

  it('writes an empty file', async () => {
    const dir = fresh();
    const sinks = new FileSinks();
    const o = await sinks.openInDirectory(1, dir, 'empty.txt', 0);
    await sinks.close(1, o.handle);
    expect(statSync(join(dir, 'empty.txt')).size).toBe(0);
  });
});
