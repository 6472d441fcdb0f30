#!/usr/bin/env node
// The `parley` command. Build first: `npx tsc -b` (or `npm run build:node`).
import { runAsProcess } from '../dist/cli/src/main.js';

await runAsProcess(process.argv.slice(2));
