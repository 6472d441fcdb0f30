#!/usr/bin/env node
// `npm test`: the whole suite, in order: preflight, typecheck, lint, unit, integration, end-to-end, Electron scan.
// Stops at the first failing stage and prints one closing line "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSystemDeps } from './preflight.mjs';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

function preflight() {
  const problems = [];
  if (process.getuid?.() !== 0) {
    problems.push('integration and end-to-end tests build network namespaces: run `npm test` as root (or with sudo).');
  }
  // Every program the tests start is on the system-package list; each missing one is named with its package.
  const system = checkSystemDeps();
  problems.push(...system.problems);
  if (!existsSync(join(root, 'node_modules'))) problems.push('dependencies are not installed: npm ci');
  if (problems.length) {
    console.error('npm test cannot run every test on this machine:\n' + problems.map((p) => '  - ' + p).join('\n'));
    if (system.packages.length) console.error(`All at once: apt-get install -y ${system.packages.join(' ')}`);
    console.error(
      'Nothing is skipped silently: fix the above (bash .ci/run installs all of it on Debian) and run again.',
    );
    process.exit(1);
  }
}

const outDir = mkdtempSync(join(tmpdir(), 'parley-test-'));
let passed = 0;
let failed = 0;

function runStage(label, cmd, args) {
  console.log(`\n=== ${label}: ${cmd} ${args.join(' ')}`);
  const started = Date.now();
  const result = spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`=== ${label}: ${result.status === 0 ? 'ok' : 'FAILED'} in ${secs}s`);
  return result.status === 0;
}

function vitest(project) {
  const report = join(outDir, `${project}.json`);
  const ok = runStage(`${project} tests`, 'npx', [
    'vitest',
    'run',
    '--project',
    project,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
  ]);
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    passed += json.numPassedTests ?? 0;
    failed += (json.numFailedTests ?? 0) + (json.numTotalTests === 0 ? 1 : 0);
    if (json.numTotalTests === 0) console.error(`${project}: no tests ran — that counts as a failure.`);
  } else if (!ok) failed += 1;
  return ok;
}

function finish(ok) {
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(ok && failed === 0 ? 0 : 1);
}

preflight();
const stages = [
  () => runStage('typecheck', 'npm', ['run', '--silent', 'typecheck']),
  () => runStage('lint', 'npm', ['run', '--silent', 'lint']),
  () => runStage('renderer build', 'npm', ['run', '--silent', 'build:renderer']),
  () => vitest('unit'),
  () => vitest('integration'),
  () => vitest('e2e'),
  () => runStage('electronegativity', 'node', ['scripts/electronegativity.mjs']),
];
for (const stage of stages) {
  if (!stage()) finish(false);
}
finish(true);
