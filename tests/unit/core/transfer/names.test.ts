import { describe, expect, it } from 'vitest';
import { offerPathsProblem, relativePathProblem } from '../../../../core/src/transfer/index.js';

describe('relative path validation', () => {
  it.each([
    'a.txt',
    'folder/sub/file.tar.gz',
    'résumé — 履歴書.txt',
    'фото/снимок 1.jpg',
    '🎉 party/😀.png',
    '.hidden',
    'console.log',
    'CONFIG',
    'com10',
    'lpt',
    "it's (1) [ok] #1 & more.txt",
    'x/'.repeat(31) + 'y',
  ])('accepts %j', (name) => {
    expect(relativePathProblem(name)).toBeNull();
  });

  it.each([
    ['', 'empty name'],
    ['..', '".." segment'],
    ['../x', '".." segment'],
    ['a/../../b', '".." segment'],
    ['a/..', '".." segment'],
    ['./a', '"." segment'],
    ['/etc/passwd', 'absolute path'],
    ['C:/Windows/x', 'colon'],
    ['C:x', 'colon'],
    ['file.txt:stream', 'colon'],
    ['a\\b', 'backslash'],
    ['\\\\server\\share', 'backslash'],
    ['a//b', 'empty path segment'],
    ['a/', 'empty path segment'],
    ['a\u0000b', 'control character'],
    ['line\nbreak', 'control character'],
    ['del\u007f', 'control character'],
    ['c1\u0085', 'control character'],
    ['CON', 'Windows device name'],
    ['con.txt', 'Windows device name'],
    ['dir/Nul', 'Windows device name'],
    ['PRN.tar.gz', 'Windows device name'],
    ['aux .txt', 'Windows device name'],
    ['COM1', 'Windows device name'],
    ['com9.log', 'Windows device name'],
    ['LPT1', 'Windows device name'],
    ['lpt9.x', 'Windows device name'],
    ['COM\u00b9', 'Windows device name'],
    ['CONIN$', 'Windows device name'],
    ['trailing.', 'ends with a dot or space'],
    ['trailing ', 'ends with a dot or space'],
    ['dir./x', 'ends with a dot or space'],
    ['evil\u202etxt.exe', 'bidirectional'],
    ['\ud800lone', 'invalid Unicode'],
    ['n'.repeat(201), 'segment longer'],
    ['é'.repeat(101), 'segment longer'],
    ['x/'.repeat(32) + 'y', 'deeper than'],
    [('d'.repeat(100) + '/').repeat(11), 'longer than 1024'],
  ])('refuses %j (%s)', (name, reason) => {
    expect(relativePathProblem(name)).toContain(reason);
  });

  it('refuses non-strings', () => {
    expect(relativePathProblem(42)).toBe('not a string');
  });
});

describe('offer path sets', () => {
  it('accepts a normal tree', () => {
    expect(offerPathsProblem(['a/b.txt', 'a/c/d.txt', 'e.txt'])).toBeNull();
  });

  it('refuses the same name twice, including Unicode-equivalent spellings', () => {
    expect(offerPathsProblem(['a.txt', 'a.txt'])).toMatch(/named twice/);
    expect(offerPathsProblem(['caf\u00e9', 'cafe\u0301'])).toMatch(/named twice/);
  });

  it('refuses a name that is both a file and a folder', () => {
    expect(offerPathsProblem(['a', 'a/b'])).toMatch(/both a file and a folder/);
    expect(offerPathsProblem(['a/b/c', 'a/b'])).toMatch(/both a file and a folder/);
  });

  it('names the offending path in a quoted, control-free form', () => {
    const problem = offerPathsProblem(['ok', 'bad\u202e/../x'])!;
    expect(problem).toContain('refused file name');
    expect(problem).not.toMatch(/\u202e/);
  });
});
