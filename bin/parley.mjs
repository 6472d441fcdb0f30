#!/usr/bin/env node
// The `parley` command. Build first: `npx tsc -b` (or `npm run build:node`).
// After `node build/bundle-cli.mjs`, the one-file bundle runs instead, while every file it was built from is
// unchanged (its manifest lists them): half the start-up CPU of loading dist/ module by module. The bundle is
// compiled with V8's code cache kept beside it (written by the first run that had none, or whose cache V8
// refused): parsing and compiling 2 MB of JavaScript is then paid once, not by every process.
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

const root = new URL('..', import.meta.url).pathname;

/** The bundle's path when it is fresh, else null (missing, unreadable, or any input changed since). */
function freshBundle() {
  if (process.env.PARLEY_NO_BUNDLE) return null;
  try {
    const { inputs } = JSON.parse(readFileSync(join(root, 'dist/cli/parley.bundle.json'), 'utf8'));
    for (const i of inputs) {
      const s = statSync(join(root, i.path));
      if (s.mtimeMs !== i.mtimeMs || s.size !== i.size) return null;
    }
    return join(root, 'dist/cli/parley.bundle.cjs');
  } catch {
    return null;
  }
}

/** Runs the CommonJS bundle as Node would require() it, compiled from the code cache when V8 accepts it. */
function loadBundle(path) {
  const cachePath = path.replace(/\.cjs$/, '.cache');
  let cachedData;
  try {
    cachedData = readFileSync(cachePath);
  } catch {
    // none yet: this run writes it
  }
  const script = new vm.Script(Module.wrap(readFileSync(path, 'utf8')), {
    filename: path,
    ...(cachedData ? { cachedData } : {}),
  });
  // Written at exit, so the functions this command compiled on the way are in it too.
  if (!cachedData || script.cachedDataRejected) process.once('exit', () => saveCache(script, cachePath));
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(path), module, path, dirname(path));
  return module.exports;
}

function saveCache(script, cachePath) {
  const temp = `${cachePath}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, script.createCachedData());
    renameSync(temp, cachePath); // whole or not at all, also when two first runs race
  } catch {
    rmSync(temp, { force: true }); // a read-only install runs without a cache
  }
}

const bundle = freshBundle();
const { runAsProcess } = bundle ? loadBundle(bundle) : await import('../dist/cli/src/main.js');
await runAsProcess(process.argv.slice(2));
