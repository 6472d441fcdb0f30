// `npm start` on a machine without the Electron binary (this one): a clear failure, never a download.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..', '..');
const script = join(root, 'scripts', 'start-electron.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'parley-start-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(env: Record<string, string>) {
  // A minimal environment: nothing inherited can change how the script finds Electron.
  return spawnSync(process.execPath, [script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 60_000,
  });
}

describe('scripts/start-electron.mjs', () => {
  it('fails with a clear message when the binary is missing', () => {
    const r = run({ ELECTRON_OVERRIDE_DIST_PATH: join(tmp, 'no-electron-here') });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/the Electron binary is not available on this machine/);
    expect(r.stderr).toMatch(/npm install/);
    expect(r.stderr).toMatch(/npm run relay/);
    expect(r.stdout).not.toMatch(/Downloading Electron/);
  });

  it('launches a binary found under ELECTRON_OVERRIDE_DIST_PATH on the project, once it is built', () => {
    // A stand-in "Electron" that records how it was started.
    const dist = join(tmp, 'electron-dist');
    const marker = join(tmp, 'launched-with.txt');
    mkdirSync(dist, { recursive: true });
    writeFileSync(join(dist, 'electron'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${marker}'\nexit 0\n`, { mode: 0o755 });
    const r = run({ ELECTRON_OVERRIDE_DIST_PATH: dist });
    expect(r.stderr).not.toMatch(/Electron binary is not available/);
    const built =
      existsSync(join(root, 'dist', 'electron', 'main', 'index.js')) &&
      existsSync(join(root, 'dist', 'renderer', 'index.html'));
    if (built) {
      expect(r.status).toBe(0);
      expect(readFileSync(marker, 'utf8').split('\n')[0]).toBe(root);
      expect(existsSync(join(root, 'dist', 'electron', 'preload', 'index.cjs'))).toBe(true);
    } else {
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/not built/);
      expect(existsSync(marker)).toBe(false);
    }
  });
});
