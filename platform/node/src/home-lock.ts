// One parley process per home directory: an exclusive lock file naming the owner's pid.
// Two processes writing the same store would interleave their logs and corrupt each other's view.
import { promises as fs, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

export class HomeLockedError extends Error {
  constructor(
    readonly home: string,
    readonly pid: number,
  ) {
    super(`another parley process is using ${home} (pid ${pid}); stop it or use another --home`);
    this.name = 'HomeLockedError';
  }
}

interface LockInfo {
  pid: number;
  /** Kernel start time of the owner (Linux /proc), so a reused pid is not mistaken for the owner. */
  start: string | null;
}

export interface HomeLock {
  readonly path: string;
  release(): Promise<void>;
  /** Synchronous release for process 'exit' handlers. */
  releaseSync(): void;
}

function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the parenthesised command name (which may contain spaces).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(info: LockInfo): boolean {
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (info.start === null) return true;
  const now = startTimeOf(info.pid);
  return now === null || now === info.start;
}

function parseLock(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && Number.isInteger(v.pid) && v.pid > 0) {
      return { pid: v.pid, start: typeof v.start === 'string' ? v.start : null };
    }
  } catch {
    /* fall through */
  }
  return null;
}

/**
 * Takes HOME/lock or throws HomeLockedError. The lock is published with link(2), which is atomic and
 * fails if the name exists, so the file never appears half-written. A lock whose owner is dead is
 * moved aside under a unique name before removal, so two reclaimers cannot delete each other's fresh lock.
 */
export async function acquireHomeLock(home: string): Promise<HomeLock> {
  const path = join(home, 'lock');
  const mine: LockInfo = { pid: process.pid, start: startTimeOf(process.pid) };
  const tmp = join(home, `.lock.${process.pid}.${Date.now()}`);
  await fs.writeFile(tmp, JSON.stringify(mine), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await fs.link(tmp, path);
        let released = false;
        const releaseSync = (): void => {
          if (released) return;
          released = true;
          try {
            const cur = parseLock(readFileSync(path, 'utf8'));
            if (cur?.pid === process.pid) unlinkSync(path);
          } catch {
            /* already gone */
          }
        };
        return {
          path,
          releaseSync,
          async release() {
            releaseSync();
          },
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let text: string;
      try {
        text = await fs.readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
        throw err;
      }
      const owner = parseLock(text);
      // An unparsable lock is a crash between create and write in an older layout: treat as stale.
      if (owner && isAlive(owner)) throw new HomeLockedError(home, owner.pid);
      const aside = join(home, `.lock.stale.${process.pid}.${attempt}`);
      try {
        await fs.rename(path, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = parseLock(await fs.readFile(aside, 'utf8').catch(() => ''));
      if (moved && isAlive(moved)) {
        // We raced a reclaimer that had just taken the lock: give it back (link fails only if yet
        // another process took it, in which case that process holds the lock and we lose).
        await fs.link(aside, path).catch(() => undefined);
        await fs.unlink(aside).catch(() => undefined);
        throw new HomeLockedError(home, moved.pid);
      }
      await fs.unlink(aside).catch(() => undefined);
    }
    throw new Error(`could not take the lock ${path}`);
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
}
