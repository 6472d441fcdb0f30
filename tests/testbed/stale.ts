// Removes what earlier runs left behind when they died without tearing down: namespaces and temp dirs whose
// name carries a pid that no longer exists. Anything owned by a live pid (another engineer's run) is untouched.
// Processes still inside a stale namespace are not killed (they are not ours); test-bed scripts exit on their
// own when their parent dies, and Chromium exits when its Playwright pipe closes.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deleteNamespace, listNamespaces } from './netns.js';
import { TEMP_ROOT, parseNamespace, parseRunId, pidAlive } from './names.js';

export interface StaleReport {
  namespaces: string[];
  tempDirs: string[];
}

export async function cleanupStale(): Promise<StaleReport> {
  const report: StaleReport = { namespaces: [], tempDirs: [] };
  const stale = (await listNamespaces())
    .map((ns) => ({ ns, parsed: parseNamespace(ns) }))
    .filter((e) => e.parsed !== null && !pidAlive(e.parsed.pid));
  // Hosts first, then their switch, mirroring teardown.
  stale.sort((x, y) => Number(x.parsed!.host === null) - Number(y.parsed!.host === null));
  for (const { ns } of stale) {
    await deleteNamespace(ns);
    report.namespaces.push(ns);
  }
  const dirs = await readdir(TEMP_ROOT).catch(() => [] as string[]);
  for (const d of dirs) {
    const run = parseRunId(d);
    if (run && !pidAlive(run.pid)) {
      await rm(join(TEMP_ROOT, d), { recursive: true, force: true });
      report.tempDirs.push(d);
    }
  }
  return report;
}
