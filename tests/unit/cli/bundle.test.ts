// The one-file `parley` bundle (build/bundle-cli.mjs) and how bin/parley.mjs picks it: the bundle runs a real
// command, and bin/parley.mjs runs it only while every file it was built from is unchanged, compiled from
// the V8 code cache the first run left beside it.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from './helpers.js';

const node = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });

describe('bin/parley.mjs and the bundle', () => {
  const temps: string[] = [];
  afterAll(() => {
    for (const t of temps) rmSync(t, { recursive: true, force: true });
  });

  /** A copy of bin/parley.mjs in a tree of stubs: each entry says which one ran. */
  function stubTree() {
    const root = mkdtempSync(join(tmpdir(), 'parley-bin-'));
    temps.push(root);
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'dist/cli/src'), { recursive: true });
    cpSync(join(REPO, 'bin/parley.mjs'), join(root, 'bin/parley.mjs'));
    const entry = (name: string) =>
      `export async function runAsProcess(args) { console.log('${name}', args.join(' ')); process.exit(0); }\n`;
    writeFileSync(join(root, 'dist/cli/src/main.js'), entry('plain'));
    // The bundle is CommonJS: it finds its own file name and resolves require() from where it lies.
    writeFileSync(
      join(root, 'dist/cli/parley.bundle.cjs'),
      "exports.runAsProcess = async (args) => { console.log(require('node:path').basename(__filename), args.join(' ')); process.exit(0); };\n",
    );
    const input = join(root, 'dist/cli/src/input.js');
    writeFileSync(input, '// an input of the bundle\n');
    const manifest = () => {
      const { mtimeMs, size } = statSync(input);
      writeFileSync(
        join(root, 'dist/cli/parley.bundle.json'),
        JSON.stringify({ inputs: [{ path: 'dist/cli/src/input.js', mtimeMs, size }] }),
      );
    };
    const run = (env: Record<string, string> = {}) => node([join(root, 'bin/parley.mjs'), 'a', 'b'], env).stdout.trim();
    return { root, input, manifest, run };
  }

  it('runs the bundle while its inputs are unchanged, and the plain entry once one changed or the manifest is gone', () => {
    const t = stubTree();
    expect(t.run()).toBe('plain a b'); // no manifest: never built, or being written
    t.manifest();
    expect(t.run()).toBe('parley.bundle.cjs a b');
    expect(t.run({ PARLEY_NO_BUNDLE: '1' })).toBe('plain a b');
    const later = new Date(Date.now() + 5000);
    utimesSync(t.input, later, later); // a later `tsc -b` rewrote an input
    expect(t.run()).toBe('plain a b');
    t.manifest();
    expect(t.run()).toBe('parley.bundle.cjs a b');
    writeFileSync(t.input, '// changed, same second\n// longer\n');
    utimesSync(t.input, later, later);
    expect(t.run()).toBe('plain a b');
  });

  it('writes the code cache on the first run, keeps it while V8 takes it, and replaces one it refuses', () => {
    const t = stubTree();
    t.manifest();
    const cache = join(t.root, 'dist/cli/parley.bundle.cache');
    expect(existsSync(cache)).toBe(false);
    expect(t.run()).toBe('parley.bundle.cjs a b');
    const first = readFileSync(cache);
    expect(first.length).toBeGreaterThan(0);
    const old = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000); // whole seconds: mtimes compare exactly
    utimesSync(cache, old, old);
    expect(t.run()).toBe('parley.bundle.cjs a b');
    expect(statSync(cache).mtimeMs).toBe(old.getTime()); // accepted: not written again
    writeFileSync(cache, 'not a code cache');
    expect(t.run()).toBe('parley.bundle.cjs a b'); // refused: compiled from source and written anew
    expect(readFileSync(cache).toString('latin1')).not.toBe('not a code cache');
    utimesSync(cache, old, old);
    expect(t.run()).toBe('parley.bundle.cjs a b');
    expect(statSync(cache).mtimeMs).toBe(old.getTime()); // and the new one is taken
    expect(readFileSync(join(t.root, 'dist/cli/parley.bundle.cjs'), 'utf8')).toContain('exports.runAsProcess');
  });

  it('build/bundle-cli.mjs makes a bundle that runs a real command (needs `tsc -b` first, as CI does)', () => {
    const out = join(REPO, 'dist/cli', `.bundle-test-${process.pid}`);
    temps.push(out);
    const built = node([join(REPO, 'build/bundle-cli.mjs'), out]);
    expect(built.status, built.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'parley.bundle.json'), 'utf8')) as {
      inputs: { path: string }[];
    };
    expect(manifest.inputs.some((i) => i.path === 'dist/cli/src/main.js')).toBe(true);
    expect(manifest.inputs.some((i) => i.path === 'dist/core/src/session/session.js')).toBe(true);
    const home = mkdtempSync(join(tmpdir(), 'parley-bundle-home-'));
    temps.push(home);
    const script = `require(${JSON.stringify(join(out, 'parley.bundle.cjs'))}).runAsProcess(process.argv.slice(1));`;
    const r = node(['-e', script, '--', '--home', home, '--json', 'id', '--name', 'Bundled']);
    expect(r.status, r.stderr).toBe(0);
    const id = JSON.parse(r.stdout.trim().split('\n')[0]!) as { name: string; invite: string };
    expect(id.name).toBe('Bundled');
    expect(id.invite).toMatch(/^parley:\/\/invite\?/);
  });
});
