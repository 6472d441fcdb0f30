import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mimeTypeFor, resolveAppRequest } from '../../../electron/main/app-protocol.js';

let base: string;
let root: string;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'parley-app-protocol-'));
  root = join(base, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  mkdirSync(join(root, 'dir.d'));
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  writeFileSync(join(root, 'assets', 'app-1234.js'), 'export {}');
  writeFileSync(join(root, 'assets', 'hash.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(root, 'assets', 'Ünïcode name.css'), 'a{}');
  writeFileSync(join(base, 'secret.txt'), 'outside the root');
  // A symlink inside the root that leads out of it, and one that stays inside.
  symlinkSync(join(base, 'secret.txt'), join(root, 'assets', 'escape.txt'));
  symlinkSync(base, join(root, 'assets', 'up'));
  symlinkSync(join(root, 'assets', 'app-1234.js'), join(root, 'assets', 'alias.js'));
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => resolveAppRequest({ url, method }, root);

describe('app:// resolver', () => {
  it('serves files under the root with their MIME type', async () => {
    expect(await get('app://parley/index.html')).toEqual({
      status: 200,
      path: join(root, 'index.html'),
      mimeType: 'text/html; charset=utf-8',
    });
    expect(await get('app://parley/assets/app-1234.js')).toMatchObject({
      status: 200,
      mimeType: 'text/javascript; charset=utf-8',
    });
    expect(await get('app://parley/assets/hash.wasm')).toMatchObject({ status: 200, mimeType: 'application/wasm' });
    expect(await get('app://parley/assets/%C3%9Cn%C3%AFcode%20name.css')).toMatchObject({
      status: 200,
      mimeType: 'text/css; charset=utf-8',
    });
    expect(await get('app://parley/assets/app-1234.js?v=2#x')).toMatchObject({ status: 200 });
  });

  it('falls back to index.html for the root and extension-less routes', async () => {
    for (const url of ['app://parley', 'app://parley/', 'app://parley/chat', 'app://parley/contacts/abc/settings']) {
      expect(await get(url), url).toMatchObject({ status: 200, path: join(root, 'index.html') });
    }
  });

  it('404s a missing asset instead of answering with HTML', async () => {
    expect(await get('app://parley/assets/missing.js')).toMatchObject({ status: 404 });
    expect(await get('app://parley/dir.d')).toMatchObject({ status: 404 });
  });

  it('follows a symlink that stays inside the root', async () => {
    expect(await get('app://parley/assets/alias.js')).toMatchObject({
      status: 200,
      path: join(root, 'assets', 'app-1234.js'),
    });
  });

  const traversals = [
    'app://parley/../../etc/passwd',
    'app://parley/../secret.txt',
    'app://parley/assets/../../secret.txt',
    'app://parley/%2e%2e/%2e%2e/etc/passwd',
    'app://parley/%2E%2E/secret.txt',
    'app://parley/.%2e/secret.txt',
    'app://parley/%252e%252e/%252e%252e/etc/passwd',
    'app://parley/..%2fsecret.txt',
    'app://parley/..%2Fsecret.txt',
    'app://parley/%2e%2e%2fsecret.txt',
    'app://parley/..%5csecret.txt',
    'app://parley/..\\secret.txt',
    'app://parley/assets\\..\\..\\secret.txt',
    'app://parley/%2fetc%2fpasswd',
    'app://parley//etc/passwd',
    'app://parley/index.html%00.js',
    'app://parley/index.html\u0000.js',
    'app://parley/C:%5Cwindows%5Cwin.ini',
    'app://parley/C:/windows/win.ini',
    'app://parley/./index.html',
    'app://parley/assets/escape.txt',
    'app://parley/assets/up/secret.txt',
    'app://parley/%c0%ae%c0%ae/secret.txt',
  ];
  for (const url of traversals) {
    it(`refuses ${JSON.stringify(url)}`, async () => {
      const r = await get(url);
      expect(r.status).not.toBe(200);
      // Nothing outside the root is ever returned, whatever the status.
      expect(JSON.stringify(r)).not.toContain('secret.txt"');
      expect(JSON.stringify(r)).not.toContain('/etc/passwd');
    });
  }

  it('names the reason: dot segments, encoded separators, symlink escapes', async () => {
    expect(await get('app://parley/../../etc/passwd')).toMatchObject({ status: 400, error: 'dot segment in URL' });
    expect(await get('app://parley/%2e%2e/%2e%2e/etc/passwd')).toMatchObject({
      status: 400,
      error: 'dot segment in URL',
    });
    expect(await get('app://parley/..%2fsecret.txt')).toMatchObject({
      status: 400,
      error: 'encoded separator or NUL in URL',
    });
    expect(await get('app://parley/%252e%252e/%252e%252e/etc/passwd')).toMatchObject({
      status: 400,
      error: 'forbidden path segment',
    });
    expect(await get('app://parley/assets/escape.txt')).toMatchObject({
      status: 403,
      error: 'path escapes the web client directory',
    });
    expect(await get('app://parley/assets/up/secret.txt')).toMatchObject({ status: 403 });
  });

  it('refuses other hosts, ports, credentials and schemes', async () => {
    for (const url of [
      'app://evil/index.html',
      'app://parley.evil/index.html',
      'app://parley:8080/index.html',
      'app://u:p@parley/index.html',
    ]) {
      expect(await get(url), url).toMatchObject({ status: 403 });
    }
    expect(await get('https://parley/index.html')).toMatchObject({ status: 400 });
    expect(await get('file:///etc/passwd')).toMatchObject({ status: 400 });
    expect(await get(`app://parley/${'a'.repeat(5000)}`)).toMatchObject({ status: 400 });
    expect(await get('app://parley/%E0%A4%A')).toMatchObject({ status: 400, error: 'malformed percent-encoding' });
  });

  it('refuses every method but GET', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS']) {
      expect(await get('app://parley/index.html', method), method).toMatchObject({ status: 405 });
    }
  });

  it('reports an unbuilt renderer as 404', async () => {
    expect(await resolveAppRequest({ url: 'app://parley/', method: 'GET' }, join(base, 'nope'))).toMatchObject({
      status: 404,
    });
  });

  it('maps unknown extensions to octet-stream', () => {
    expect(mimeTypeFor('x.exe')).toBe('application/octet-stream');
    expect(mimeTypeFor('X.SVG')).toBe('image/svg+xml');
  });
});
