#!/usr/bin/env node
// Standalone Parley relay. Runs the compiled CLI: build first with `npm run build` (or use `npm run relay`).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/signaling/server/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('parley-relay: dist/signaling/server/cli.js is missing; run `npm run build` (or `npx tsc -b`) first.');
  process.exit(1);
}
const { runCli } = await import(cli.href);
try {
  await runCli(process.argv);
} catch (err) {
  console.error(`parley-relay: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
