#!/usr/bin/env node
// `npm start` (after `npm run build`): bundle the preload and launch Electron on this project — or, where
// the Electron binary is not installed, fail with a message saying so and what to do instead.
//
// The binary is located the way node_modules/electron/index.js does it, but without that file's side
// effect: require('electron') from Node *downloads* the binary when it is missing, and this must never
// reach the network on its own.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Returns { ok: true, path } for an Electron executable that exists, or { ok: false, reason }.
 * Follows electron/index.js: dist/<path.txt>, or ELECTRON_OVERRIDE_DIST_PATH/<path.txt or "electron">.
 */
export function findElectronBinary({ env = process.env, electronDir } = {}) {
  let dir = electronDir;
  if (dir === undefined) {
    try {
      dir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
    } catch {
      return { ok: false, reason: 'the electron package is not installed (node_modules/electron is missing)' };
    }
  }
  const pathFile = join(dir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const candidate = join(env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron');
    return existsSync(candidate)
      ? { ok: true, path: candidate }
      : { ok: false, reason: `ELECTRON_OVERRIDE_DIST_PATH is set but ${candidate} does not exist` };
  }
  if (!relative)
    return {
      ok: false,
      reason: 'the Electron binary was never downloaded (node_modules/electron/path.txt is missing)',
    };
  const candidate = join(dir, 'dist', relative);
  return existsSync(candidate)
    ? { ok: true, path: candidate }
    : { ok: false, reason: `the Electron binary is missing (${candidate})` };
}

export const UNAVAILABLE_HELP = [
  'To run the desktop app, either',
  '  - run `npm install` on a machine with internet access (the electron package downloads its binary then), or',
  '  - set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron 45 directory and run `npm start` again.',
  'Without Electron you can still use Parley in a browser: `npm run relay` serves the web client at the URL it prints.',
].join('\n');

async function main() {
  const electron = findElectronBinary();
  if (!electron.ok) {
    console.error(
      `Cannot start Parley: the Electron binary is not available on this machine — ${electron.reason}.\n${UNAVAILABLE_HELP}`,
    );
    process.exit(2);
  }
  const missing = [
    join(root, 'dist', 'electron', 'main', 'index.js'),
    join(root, 'dist', 'renderer', 'index.html'),
  ].filter((p) => !existsSync(p));
  if (missing.length > 0) {
    console.error(
      `Cannot start Parley: not built (${missing.join(', ')} missing). Run \`npm run build\` first (\`npm start\` does).`,
    );
    process.exit(2);
  }
  const { bundlePreload } = await import(pathToFileURL(join(root, 'build', 'bundle-preload.mjs')).href);
  await bundlePreload();

  const env = { ...process.env };
  // Would turn the Electron binary into plain Node and ignore the app.
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(electron.path, [root, ...process.argv.slice(2)], { stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('error', (e) => {
    console.error(`Cannot start Parley: ${e.message}`);
    process.exit(2);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
