// Bundles call-page.ts (core's call engine and its dependencies) into one IIFE script for a Chromium page,
// in memory with Vite's build API. simple-peer is not bundled: the page gets its browser build first.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const SIMPLE_PEER_BROWSER_BUNDLE = require.resolve('simple-peer/simplepeer.min.js');
const ENTRY = fileURLToPath(new URL('./call-page.ts', import.meta.url));
const SHIM = fileURLToPath(new URL('./simple-peer-shim.ts', import.meta.url));

let built: Promise<string> | null = null;

/** The page script (built once per test process). */
export function callPageScript(): Promise<string> {
  built ??= (async () => {
    const { build } = await import('vite');
    const result = await build({
      configFile: false,
      logLevel: 'warn',
      resolve: { alias: { 'simple-peer': SHIM } },
      build: {
        write: false,
        minify: false,
        sourcemap: false,
        target: 'es2022',
        lib: { entry: ENTRY, formats: ['iife'], name: 'ParleyCallPage', fileName: () => 'call-page.js' },
      },
    });
    const outputs = Array.isArray(result) ? result : [result];
    for (const out of outputs) {
      if (!('output' in out)) continue;
      for (const chunk of out.output) if (chunk.type === 'chunk' && chunk.isEntry) return chunk.code;
    }
    throw new Error('vite produced no entry chunk for the call page');
  })();
  return built;
}
