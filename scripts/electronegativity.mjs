#!/usr/bin/env node
// Runs @doyensec/electronegativity on the Electron shell and fails on any HIGH or MEDIUM finding.
//   node scripts/electronegativity.mjs            # scans electron/ (TypeScript) and dist/electron/ (built JS, bundled preload) if built
//   node scripts/electronegativity.mjs <dir>...   # scans the given directories instead
//
// Why not its CLI: electronegativity 1.10 calls the commander v2 API, and the commander installed here
// (v14, hoisted for the `parley` command) breaks it before it scans anything. Its programmatic runner is
// the same scan and returns the findings with their severity, which its file formats (CSV, SARIF) drop or
// flatten; the findings are written as JSON to a temp file and read back from it.
//
// No network: electronegativity fetches translations and Electron release notes with `got` on every run.
// That module is replaced by a stub that refuses, so the bundled English strings are used and the
// release-notes check (AvailableSecurityFixesGlobalCheck, which needs the network) is excluded.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const FAILING = new Set(['HIGH', 'MEDIUM']);
const EXCLUDED_CHECKS = ['availablesecurityfixesglobalcheck'];

function blockNetwork() {
  const originalLoad = Module._load;
  Module._load = function load(request, parent, isMain) {
    if (request === 'got' && parent?.filename?.includes(`${join('node_modules', '@doyensec')}`)) {
      const refuse = () => Promise.reject(new Error('network access disabled by scripts/electronegativity.mjs'));
      return Object.assign(refuse, { get: refuse, default: refuse });
    }
    return originalLoad.call(this, request, parent, isMain);
  };
}

async function scan(run, input, electronVersion) {
  const result = await run(
    {
      input,
      output: undefined,
      isSarif: false,
      customScan: [],
      excludeFromScan: EXCLUDED_CHECKS,
      severitySet: undefined,
      confidenceSet: undefined,
      isRelative: false,
      isVerbose: true,
      electronUpgrade: undefined,
      electronVersionOverride: electronVersion,
      parserPlugins: [],
    },
    false,
  );
  return {
    input,
    checks: result.globalChecks + result.atomicChecks,
    errors: result.errors.map((e) => ({ file: relative(root, e.file), message: e.message, tolerable: e.tolerable })),
    findings: result.issues.map((i) => ({
      id: i.id,
      severity: i.severity?.name ?? String(i.severity),
      confidence: i.confidence?.name ?? String(i.confidence),
      manualReview: Boolean(i.manualReview),
      file: i.file === 'N/A' ? 'N/A' : relative(root, i.file),
      line: i.location?.line ?? 0,
      column: i.location?.column ?? 0,
      sample: i.sample ?? '',
      description: i.description ?? '',
    })),
  };
}

async function main() {
  const inputs =
    process.argv.length > 2
      ? process.argv.slice(2).map((p) => resolve(p))
      : [join(root, 'electron'), join(root, 'dist', 'electron')].filter((p) => existsSync(p));
  blockNetwork();
  // Its i18n takes the locale from LANG; pin the bundled English strings.
  process.env.LANG = 'en-US';
  const electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
  const run = require('@doyensec/electronegativity').default ?? require('@doyensec/electronegativity');
  // The runner prints a progress note when it cannot fetch translations; keep the output to the findings.
  const log = console.log;
  const reports = [];
  try {
    console.log = () => {};
    for (const input of inputs) reports.push(await scan(run, input, electronVersion));
  } finally {
    console.log = log;
  }

  const reportFile = join(mkdtempSync(join(tmpdir(), 'parley-electronegativity-')), 'report.json');
  writeFileSync(reportFile, JSON.stringify({ electronVersion, reports }, null, 2));
  const { reports: parsed } = JSON.parse(readFileSync(reportFile, 'utf8'));

  let failing = 0;
  for (const report of parsed) {
    console.log(
      `electronegativity ${relative(root, report.input) || '.'}: ${report.checks} checks, ${report.findings.length} findings`,
    );
    for (const e of report.errors) console.log(`  ${e.tolerable ? 'warning' : 'PARSE ERROR'} ${e.file}: ${e.message}`);
    for (const f of report.findings) {
      const bad = FAILING.has(f.severity);
      if (bad) failing++;
      console.log(
        `  ${bad ? 'FAIL' : 'info'} ${f.severity}/${f.confidence}${f.manualReview ? ' (review)' : ''} ${f.id} ${f.file}:${f.line}:${f.column}`,
      );
      if (f.sample) console.log(`       ${f.sample.slice(0, 160)}`);
      if (bad) console.log(`       ${f.description}`);
    }
    // A file it could not parse was not checked: that is a failure too, not a silent pass.
    failing += report.errors.filter((e) => !e.tolerable).length;
  }
  console.log(`report: ${reportFile}`);
  if (parsed.length === 0) {
    console.error('electronegativity: nothing to scan');
    process.exit(1);
  }
  if (failing > 0) {
    console.error(`electronegativity: ${failing} HIGH/MEDIUM finding(s) or unparsed file(s)`);
    process.exit(1);
  }
  console.log('electronegativity: no HIGH or MEDIUM findings');
}

main().catch((e) => {
  console.error(e?.stack ?? String(e));
  process.exit(1);
});
