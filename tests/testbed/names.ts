// Per-run names. Every namespace carries the owning pid so cleanupStale() can tell a dead run's leftovers
// from a live run's namespaces, and a random part so two test beds in one process never collide.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NAME_PREFIX = 'pt';
/** Host names become namespace-name suffixes: keep them short and shell-safe. */
export const HOST_NAME = /^[a-z][a-z0-9]{0,15}$/;
const RUN_ID = /^pt(\d+)r([0-9a-f]{6})$/;
const NS_NAME = /^(pt\d+r[0-9a-f]{6})(?:-([a-z][a-z0-9]{0,15}))?$/;

/** Parent of every run's temp directory (wrapper scripts, Chromium profiles, pid files). */
export const TEMP_ROOT = join(tmpdir(), 'parley-testbed');

export function newRunId(pid = process.pid): string {
  return `${NAME_PREFIX}${pid}r${randomBytes(3).toString('hex')}`;
}

/** The switch namespace is named after the run; hosts are `<run>-<host>`. */
export function switchNamespace(runId: string): string {
  return runId;
}

export function hostNamespace(runId: string, host: string): string {
  return `${runId}-${host}`;
}

export function parseRunId(runId: string): { pid: number } | null {
  const m = RUN_ID.exec(runId);
  return m ? { pid: Number(m[1]) } : null;
}

export function parseNamespace(ns: string): { runId: string; host: string | null; pid: number } | null {
  const m = NS_NAME.exec(ns);
  if (!m || !m[1]) return null;
  const run = parseRunId(m[1]);
  return run ? { runId: m[1], host: m[2] ?? null, pid: run.pid } : null;
}

/** True unless the pid certainly does not exist (EPERM means it exists under someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
