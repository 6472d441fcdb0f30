// Root-namespace safety net: a blackhole route for the whole test range, so a packet for 10.99/16 can never
// leave the machine even if something in the root namespace tried. Added if missing and deliberately left in
// place afterwards: removing it safely would need cross-run reference counting, while leaving it costs nothing
// (10.99/16 is reserved for test beds on machines that run these tests).
import { run } from './exec.js';

export const TEST_RANGE = '10.99.0.0/16';

export async function hasBlackhole(range = TEST_RANGE): Promise<boolean> {
  const { stdout } = await run('ip', ['-4', 'route', 'show', 'exact', range, 'type', 'blackhole']);
  return stdout.trim().length > 0;
}

export async function ensureBlackhole(range = TEST_RANGE): Promise<void> {
  if (await hasBlackhole(range)) return;
  // Refuse to shadow a real route: the range would then be in use by this machine.
  const { stdout } = await run('ip', ['-4', 'route', 'show', 'exact', range]);
  if (stdout.trim())
    throw new Error(
      `the root namespace already routes ${range} (${stdout.trim()}); the test bed needs that range to itself`,
    );
  const res = await run('ip', ['route', 'add', 'blackhole', range], { allowFailure: true });
  // A concurrent run may have added it between the check and the add.
  if (res.code !== 0 && !(await hasBlackhole(range)))
    throw new Error(`cannot add blackhole route ${range}: ${res.stderr.trim()}`);
}
