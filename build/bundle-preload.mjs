#!/usr/bin/env node
// Bundles electron/preload/index.ts into dist/electron/preload/index.cjs.
// Why a bundle: a sandboxed preload is loaded as a classic CommonJS script whose `require` knows only
// 'electron' (and a few Node shims): it can neither be an ES module nor require its sibling files.
// `tsc -b` emits ESM per file, so the preload gets this one extra step (run by `npm start`,
// by electron-builder's beforePack hook, and by the unit test that checks the bundle).
import { build } from 'vite';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PRELOAD_ENTRY = join(root, 'electron', 'preload', 'index.ts');
export const PRELOAD_OUT_DIR = join(root, 'dist', 'electron', 'preload');
export const PRELOAD_FILE = 'index.cjs';

/** Builds the bundle into outDir (default dist/electron/preload). Returns the output path. */
export async function bundlePreload(outDir = PRELOAD_OUT_DIR) {
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    publicDir: false,
    build: {
      outDir,
      emptyOutDir: false,
      minify: false,
      sourcemap: false,
      target: 'es2022',
      // Preloads run in a Chromium renderer with Node-like CommonJS wrapping; no browser polyfills needed.
      ssr: false,
      copyPublicDir: false,
      lib: { entry: PRELOAD_ENTRY, formats: ['cjs'], fileName: () => PRELOAD_FILE },
      rollupOptions: { external: ['electron'] },
    },
  });
  return join(outDir, PRELOAD_FILE);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await bundlePreload(process.argv[2]);
  console.log(`preload bundled: ${out}`);
}
