#!/usr/bin/env node
// The `parley` command. Build first: `npx tsc -b` (or `npm run build:node`).
// After `node build/bundle-cli.mjs`, the one-file bundle runs instead, while every file it was built from is
// unchanged (its manifest lists them): half the start-up CPU of loading dist/ module by module.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
    return join(root, 'dist/cli/parley.bundle.mjs');
  } catch {
    return null;
  }
}

const bundle = freshBundle();
const { runAsProcess } = await import(bundle ?? '../dist/cli/src/main.js');
await runAsProcess(process.argv.slice(2));
