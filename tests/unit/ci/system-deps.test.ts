// The system-package list is the single source of what the suite may start: these tests fail when test or
// bench code names a program that .ci/system-deps.json does not list, and prove the runtime guard refuses one.
import childProcess, { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { TEMP_ROOT } from '../../testbed/names.js';
import {
  assertListed,
  isNodeRuntime,
  loadSystemDeps,
  packageOf,
  programsOf,
  UnlistedProgramError,
} from '../../testbed/system-deps.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const deps = loadSystemDeps();

// Calls whose first argument is a program: node's child_process API and the test bed's run helpers.
const SPAWNERS = new Set(['spawn', 'spawnSync', 'execFile', 'execFileSync', 'run', 'runSyncQuiet', 'exec']);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|mjs|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

// An argument that is not a literal (a variable): the runtime guard checks those.
const EXPR = '<expr>';

interface Started {
  file: string;
  line: number;
  programs: string[];
}

/** Every literal program a file starts through one of SPAWNERS (with `ip netns exec` and `sh -c` looked into). */
function startedPrograms(path: string, text = readFileSync(path, 'utf8')): Started[] {
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: Started[] = [];
  const literal = (n: ts.Node | undefined): string | null =>
    n && (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) ? n.text : null;
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isIdentifier(callee)
        ? callee.text
        : ts.isPropertyAccessExpression(callee)
          ? callee.name.text
          : null;
      const program = literal(node.arguments[0]);
      if (name && SPAWNERS.has(name) && program !== null) {
        const argNode = node.arguments[1];
        const args =
          argNode && ts.isArrayLiteralExpression(argNode) ? argNode.elements.map((e) => literal(e) ?? EXPR) : [];
        found.push({
          file: relative(ROOT, path),
          line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1,
          programs: programsOf(program, args),
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('.ci/system-deps.json', () => {
  it('lists each package once and each program once', () => {
    const all = [...deps.packages, ...deps.benchPackages];
    const pkgs = all.map((p) => p.package);
    const programs = all.flatMap((p) => p.programs);
    expect(new Set(pkgs).size).toBe(pkgs.length);
    expect(new Set(programs).size).toBe(programs.length);
    for (const needed of ['chromium', 'coturn', 'iproute2', 'iptables', 'openssl', 'redis-server']) {
      expect(deps.packages.map((p) => p.package)).toContain(needed);
    }
  });

  it('names every program that test, bench and script code starts', () => {
    // This file names unlisted programs on purpose (the negative cases below).
    const self = new URL(import.meta.url).pathname;
    const files = ['tests', 'bench', 'scripts'].flatMap((d) => sourceFiles(join(ROOT, d))).filter((f) => f !== self);
    expect(files.length).toBeGreaterThan(50);
    const starts = files.flatMap((f) => startedPrograms(f));
    // The scan must see the known starters, or it proves nothing.
    expect(starts.some((s) => s.programs.includes('/usr/bin/turnserver'))).toBe(true);
    expect(starts.some((s) => s.programs.includes('ip'))).toBe(true);
    const unlisted = starts.flatMap((s) =>
      s.programs
        .filter(
          (p) =>
            p !== EXPR &&
            !isNodeRuntime(p) &&
            packageOf(deps, p, s.file.startsWith('bench/') ? 'bench' : 'test') === null,
        )
        .map((p) => `${s.file}:${s.line} starts \`${p}\``),
    );
    expect(unlisted, 'add these programs and their Debian packages to .ci/system-deps.json').toEqual([]);
  });

  it('the scan finds an unlisted program in source', () => {
    const starts = startedPrograms(
      'x.ts',
      "import { spawn } from 'node:child_process';\nspawn('parley-absent-server', ['-p', '4222']);\nawait host.exec('ip', ['netns', 'exec', 'n', 'wormhole', 'send']);",
    );
    const programs = starts.flatMap((s) => s.programs);
    expect(programs).toEqual(['parley-absent-server', 'ip', 'wormhole']);
    expect(programs.filter((p) => packageOf(deps, p) === null)).toEqual(['parley-absent-server', 'wormhole']);
    // A benchmark may start wormhole (a benchPackage); a test may not.
    expect(packageOf(deps, 'wormhole', 'bench')).toBe('magic-wormhole');
  });
});

describe('runtime spawn guard (tests/setup/spawn-guard.ts)', () => {
  it('is installed in this test process, for default and named imports', () => {
    expect(childProcess.spawn.name).toBe('guarded');
    expect(spawn.name).toBe('guarded');
  });

  it('refuses a program that is not listed, before anything runs', () => {
    expect(() => spawn('parley-absent-server', ['--version'])).toThrow(UnlistedProgramError);
    expect(() => spawnSync('wormhole', ['--version'])).toThrow(/not in \.ci\/system-deps\.json/);
    expect(() => execFileSync('ip', ['netns', 'exec', 'x', 'wormhole'])).toThrow(/`wormhole`/);
    expect(() => childProcess.execSync('parley-absent-server -v')).toThrow(UnlistedProgramError);
  });

  it('lets listed programs and node through', () => {
    expect(spawnSync(process.execPath, ['-e', 'process.exit(3)']).status).toBe(3);
    expect(spawnSync('sh', ['-c', 'exit 4']).status).toBe(4);
    expect(() => assertListed(deps, '/usr/bin/chromium', ['--version'])).not.toThrow();
    // The test bed's Chromium launch wrappers (they exec `ip netns exec NS /usr/bin/chromium`) are allowed…
    expect(() => assertListed(deps, join(TEMP_ROOT, 'pt1r000000', 'chromium-a-1.sh'), ['--headless'])).not.toThrow();
    // …but not any script elsewhere.
    expect(() => assertListed(deps, '/tmp/chromium-a-1.sh')).toThrow(UnlistedProgramError);
    expect(() => assertListed(deps, 'bash', ['-c', 'ulimit -n; parley-absent-server'])).not.toThrow(); // only the first word is checked
    expect(() => assertListed(deps, 'bash', ['-c', 'redis-server --port 0'])).not.toThrow();
    expect(() => assertListed(deps, 'bash', ['-c', 'wormhole send'])).toThrow(UnlistedProgramError);
  });
});

describe('preflight (scripts/preflight.mjs, run by npm test before any stage)', () => {
  const preflight = (packages: unknown): ReturnType<typeof spawnSync> => {
    const list = join(mkdtempSync(join(tmpdir(), 'parley-deps-')), 'deps.json');
    writeFileSync(list, JSON.stringify({ packages }));
    return spawnSync(process.execPath, [join(ROOT, 'scripts', 'preflight.mjs'), list], { encoding: 'utf8' });
  };

  it('names the Debian package of each missing program and fails', () => {
    const r = preflight([
      { package: 'coreutils', programs: ['cat'], for: 'x' },
      { package: 'parley-absent-pkg', programs: ['parley-absent-program', '/usr/bin/parley-absent'], for: 'x' },
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      '`parley-absent-program`, `/usr/bin/parley-absent` missing: apt-get install -y parley-absent-pkg',
    );
    expect(r.stderr).not.toContain('coreutils');
  });

  it('checks a package without programs through dpkg', () => {
    const r = preflight([{ package: 'parley-absent-fonts', programs: [], for: 'x' }]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'Debian package parley-absent-fonts is not installed: apt-get install -y parley-absent-fonts',
    );
  });

  it('passes when everything listed is present', () => {
    const r = preflight([{ package: 'coreutils', programs: ['cat', 'env'], for: 'x' }]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
