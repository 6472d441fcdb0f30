// The one list of system programs the tests may start (.ci/system-deps.json), and the check every spawn goes
// through. .ci/run installs the list's packages and scripts/test.mjs checks its programs, so a program that is
// missing from it would pass only on a machine where someone installed it by hand: refusing it here makes the
// test fail on every machine instead.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import { TEMP_ROOT } from './names.js';

export const SYSTEM_DEPS_PATH = new URL('../../.ci/system-deps.json', import.meta.url);

const Package = z.object({
  package: z.string().regex(/^[a-z0-9][a-z0-9.+-]+$/),
  programs: z.array(z.string().min(1)),
  for: z.string().min(1),
});
const SystemDeps = z.object({
  /** What the tests use: .ci/run installs these. */
  packages: z.array(Package),
  /** What only benchmarks use: documented, not installed by .ci/run. */
  benchPackages: z.array(Package).default([]),
});
export type SystemDeps = z.infer<typeof SystemDeps>;

export function loadSystemDeps(path: URL | string = SYSTEM_DEPS_PATH): SystemDeps {
  return SystemDeps.parse(JSON.parse(readFileSync(path, 'utf8')));
}

/**
 * Debian package that provides `program` (a PATH name or an absolute path), or null when it is not listed.
 * Benchmarks may also use benchPackages; tests may not.
 */
export function packageOf(deps: SystemDeps, program: string, scope: 'test' | 'bench' = 'test'): string | null {
  for (const p of scope === 'bench' ? [...deps.packages, ...deps.benchPackages] : deps.packages) {
    for (const listed of p.programs) {
      if (listed === program) return p.package;
      // An absolute path matches a listed bare name with that basename, and the reverse.
      if (listed.startsWith('/') !== program.startsWith('/') && basename(listed) === basename(program))
        return p.package;
    }
  }
  return null;
}

/** Node and its npm/npx are the machine's runtime (the `node` kind of machine), not Debian packages. */
export function isNodeRuntime(program: string): boolean {
  return program === process.execPath || ['node', 'npm', 'npx'].includes(basename(program));
}

// Shell words that are not programs: a `sh -c` string may start with these.
const SHELL_BUILTINS = new Set([
  'exit',
  'exec',
  'ulimit',
  'command',
  'cd',
  'export',
  'set',
  'test',
  '[',
  'echo',
  'printf',
  'kill',
  'trap',
  'wait',
  'read',
  ':',
]);

/**
 * Every program a command line starts that this check can see: the program itself, the one `ip netns exec NS`
 * runs, and the first word of a `sh -c`/`bash -c` script.
 */
export function programsOf(file: string, args: readonly string[] = []): string[] {
  const out = [file];
  const name = basename(file);
  if (name === 'ip' && args[0] === 'netns' && args[1] === 'exec' && typeof args[3] === 'string') {
    out.push(...programsOf(args[3], args.slice(4)));
  } else if ((name === 'sh' || name === 'bash') && args[0] === '-c' && typeof args[1] === 'string') {
    const first = /^\s*([^\s;&|()]+)/.exec(args[1])?.[1];
    if (first && !SHELL_BUILTINS.has(first) && !first.includes('=')) out.push(first);
  }
  return out;
}

export class UnlistedProgramError extends Error {
  constructor(readonly program: string) {
    super(
      `a test started \`${program}\`, which is not in .ci/system-deps.json: add it there with its Debian package, ` +
        'so .ci/run installs it on a bare machine and the preflight checks it',
    );
    this.name = 'UnlistedProgramError';
  }
}

/** Throws UnlistedProgramError for the first program of this command line that is not on the list. */
/**
 * The test bed's own launch wrappers (`exec ip netns exec NS /usr/bin/chromium "$@"`, written under its temp
 * root for Playwright, which takes an executable path, not a command line) run listed programs only.
 */
function isTestbedWrapper(program: string): boolean {
  return program.startsWith(`${TEMP_ROOT}/`) && program.endsWith('.sh');
}

export function assertListed(
  deps: SystemDeps,
  file: string,
  args: readonly string[] = [],
  scope: 'test' | 'bench' = 'test',
): void {
  for (const program of programsOf(file, args)) {
    if (isNodeRuntime(program) || isTestbedWrapper(program)) continue;
    if (packageOf(deps, program, scope) === null) throw new UnlistedProgramError(program);
  }
}
