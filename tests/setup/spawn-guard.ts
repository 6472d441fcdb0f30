// Loaded into every test process (vitest setupFiles) and every script the test bed starts in a namespace
// (tests/testbed/process.ts): each child_process call checks its program against .ci/system-deps.json and
// throws for one that is not listed, so a test cannot depend on a program that .ci/run never installs.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { assertListed, loadSystemDeps } from '../testbed/system-deps.js';

const GUARDED = Symbol.for('parley.spawnGuard');
type Guarded = typeof childProcess & { [GUARDED]?: true };
const cp = childProcess as Guarded;

if (!cp[GUARDED]) {
  const deps = loadSystemDeps();
  // A benchmark's namespace scripts may also start its benchPackages (bench/*.bench.ts set this).
  const scope = process.env.PARLEY_SPAWN_SCOPE === 'bench' ? 'bench' : 'test';
  const argsOf = (a: unknown): readonly string[] => (Array.isArray(a) ? (a as string[]) : []);
  // exec/execSync take one shell command line: check its first word, as `sh -c` would run it.
  const shellLine = (line: unknown): [string, string[]] => ['sh', ['-c', String(line)]];

  const original = {
    spawn: cp.spawn,
    spawnSync: cp.spawnSync,
    execFile: cp.execFile,
    execFileSync: cp.execFileSync,
    exec: cp.exec,
    execSync: cp.execSync,
  };
  const wrap = <F extends (...a: never[]) => unknown>(fn: F, check: (args: unknown[]) => void): F =>
    function guarded(this: unknown, ...args: unknown[]) {
      check(args);
      return (fn as unknown as (...a: unknown[]) => unknown).apply(this, args);
    } as unknown as F;
  const byFile = (args: unknown[]): void => assertListed(deps, String(args[0]), argsOf(args[1]), scope);
  const byLine = (args: unknown[]): void => assertListed(deps, ...shellLine(args[0]), scope);

  Object.assign(cp, {
    spawn: wrap(original.spawn, byFile),
    spawnSync: wrap(original.spawnSync, byFile),
    execFile: wrap(original.execFile, byFile),
    execFileSync: wrap(original.execFileSync, byFile),
    exec: wrap(original.exec, byLine),
    execSync: wrap(original.execSync, byLine),
  });
  // `import { spawn } from 'node:child_process'` binds to the ES module view: bring it in line.
  syncBuiltinESMExports();
  cp[GUARDED] = true;
}
