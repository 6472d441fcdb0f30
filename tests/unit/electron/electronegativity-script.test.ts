// scripts/electronegativity.mjs must fail on HIGH/MEDIUM findings (electronegativity itself exits 0 on
// findings) and pass clean code. Runs the real scanner on small samples.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'parley-eng-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sample(name: string, code: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'main.js'), code);
  return dir;
}

const scan = (dir: string) =>
  spawnSync(process.execPath, [join(root, 'scripts', 'electronegativity.mjs'), dir], {
    encoding: 'utf8',
    timeout: 120_000,
  });

describe('scripts/electronegativity.mjs', () => {
  it('exits non-zero and names the check on an insecure window', () => {
    const dir = sample(
      'insecure',
      `
      const { BrowserWindow, session } = require('electron');
      session.defaultSession.setPermissionRequestHandler((wc, p, cb) => cb(true));
      const win = new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false, webSecurity: false } });
    `,
    );
    const r = scan(dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/FAIL HIGH\/\w+ CONTEXT_ISOLATION_JS_CHECK/);
    expect(r.stdout).toMatch(/FAIL \w+\/\w+ SANDBOX_JS_CHECK/);
    expect(r.stdout).toMatch(/FAIL \w+\/\w+ WEB_SECURITY_JS_CHECK/);
    expect(r.stderr).toMatch(/HIGH\/MEDIUM finding/);
  }, 120_000);

  it('honours a narrow inline suppression and passes clean code', () => {
    const dir = sample(
      'clean',
      `
      const { BrowserWindow, session } = require('electron');
      session.defaultSession.setPermissionRequestHandler((wc, p, cb) => cb(false));
      session.defaultSession.webRequest.onHeadersReceived((d, cb) => cb({ responseHeaders: { 'Content-Security-Policy': ["default-src 'none'"] } }));
      const win = new BrowserWindow({ webPreferences: {
        contextIsolation: true, sandbox: true, nodeIntegration: false, disableBlinkFeatures: 'Auxclick',
        preload: '/p.cjs', // eng-disable PRELOAD_JS_CHECK
      } });
      win.webContents.on('will-navigate', (e) => e.preventDefault());
      win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    `,
    );
    const r = scan(dir);
    expect(r.stdout).not.toMatch(/FAIL/);
    expect(r.stdout).toMatch(/no HIGH or MEDIUM findings/);
    expect(r.status).toBe(0);
  }, 120_000);
});
