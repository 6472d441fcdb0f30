// Bundles the `parley` command (after `tsc -b`) into one file, dist/cli/parley.bundle.cjs, which bin/parley.mjs
// runs while it is fresh. Why: loading ~190 ES modules one by one (resolve, read, compile each) cost each
// `parley` process ~0.4 CPU-s before it did anything; one file halves that.
// Input is tsc's output (dist/), so the bundle runs exactly the code the tests typecheck. Native and
// worker-using packages stay external. Next to the bundle, a list of every input file with its mtime and
// size: bin/parley.mjs uses the bundle only while all of them are unchanged (a later `tsc -b` or npm
// install makes it stale, and the plain dist/ entry runs instead), so a stale bundle never runs.
// CommonJS, so bin/parley.mjs can compile it as a vm.Script with V8's code cache (Node 20 has no compile cache
// for ES modules): the bundle is parsed and compiled once, not in every process.
// Usage: node build/bundle-cli.mjs [out dir, default dist/cli; inside the repo, so externals resolve]
// (exit 0 without a bundle when esbuild is not installed)
import { statSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = join(ROOT, 'dist', 'cli', 'src', 'main.js');
const OUT = process.argv[2] ? resolve(process.argv[2]) : join(ROOT, 'dist', 'cli');
const BUNDLE = join(OUT, 'parley.bundle.cjs');
const MANIFEST = join(OUT, 'parley.bundle.json');
/** V8's code cache of the bundle (bin/parley.mjs writes it on the first run); stale once the bundle changes. */
const CACHE = join(OUT, 'parley.bundle.cache');
/** The ES module bundle of earlier builds. */
const OLD_BUNDLE = join(OUT, 'parley.bundle.mjs');
/** Native addons, optional peers of ws, and pino (its transports start workers by file name). */
const EXTERNAL = ['@roamhq/wrtc', 'bufferutil', 'utf-8-validate', 'pino', 'ioredis'];

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('bundle-cli: esbuild is not installed; parley runs from dist/ unbundled');
  rmSync(BUNDLE, { force: true });
  rmSync(MANIFEST, { force: true });
  process.exit(0);
}

rmSync(MANIFEST, { force: true }); // no bundle counts as fresh while it is being written
rmSync(CACHE, { force: true });
rmSync(OLD_BUNDLE, { force: true });
const result = await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: [ENTRY],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: BUNDLE,
  external: EXTERNAL,
  metafile: true,
  logLevel: 'warning',
  // Our ES modules read import.meta.url (createRequire, entry-point checks): the bundle file's URL.
  define: { 'import.meta.url': '__parleyImportMetaUrl' },
  banner: { js: "const __parleyImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});
const inputs = Object.keys(result.metafile.inputs).map((p) => {
  const abs = resolve(ROOT, p);
  const s = statSync(abs);
  return { path: relative(ROOT, abs), mtimeMs: s.mtimeMs, size: s.size };
});
writeFileSync(MANIFEST, JSON.stringify({ inputs }));
console.log(`bundle-cli: ${relative(ROOT, BUNDLE)} from ${inputs.length} files`);
