#!/usr/bin/env node
// Checks this machine against the system-package list (.ci/system-deps.json): every program on it must be
// on PATH (or at its absolute path) and every package without programs installed. Each problem names the
// Debian package to install. `node scripts/preflight.mjs [list.json]` prints the problems and exits 1 if any.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SYSTEM_DEPS = fileURLToPath(new URL('../.ci/system-deps.json', import.meta.url));

const onPath = (cmd) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { encoding: 'utf8' }).status === 0;
const installed = (pkg) =>
  spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout?.includes('install ok installed') ??
  false;

/** @returns {{ problems: string[], packages: string[] }} what is missing, and the packages that bring it */
export function checkSystemDeps(path = SYSTEM_DEPS) {
  const deps = JSON.parse(readFileSync(path, 'utf8'));
  const problems = [];
  const packages = [];
  for (const { package: pkg, programs } of deps.packages) {
    const absent = programs.filter((p) => (p.startsWith('/') ? !existsSync(p) : !onPath(p)));
    if (absent.length) problems.push(`${absent.map((p) => `\`${p}\``).join(', ')} missing: apt-get install -y ${pkg}`);
    else if (programs.length === 0 && !installed(pkg))
      problems.push(`Debian package ${pkg} is not installed: apt-get install -y ${pkg}`);
    else continue;
    packages.push(pkg);
  }
  return { problems, packages };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { problems, packages } = checkSystemDeps(process.argv[2]);
  for (const p of problems) console.error(`  - ${p}`);
  if (packages.length) console.error(`All at once: apt-get install -y ${packages.join(' ')}`);
  process.exit(problems.length ? 1 : 0);
}
