// Vitest wiring: one test bed per file (or describe block), built in beforeAll, always destroyed in afterAll,
// even when a test failed. Separate from index.ts so benches and scripts do not import vitest.
import { afterAll, beforeAll } from 'vitest';
import { assertTestbedAvailable, type PreflightOptions } from './preflight.js';
import { createTestbed, type Testbed, type TestbedOptions } from './testbed.js';

/** Returns a getter for the test bed; call it inside tests (not at collection time). */
export function useTestbed<const H extends string>(opts: TestbedOptions<H> & PreflightOptions): () => Testbed<H> {
  let tb: Testbed<H> | null = null;
  beforeAll(async () => {
    await assertTestbedAvailable(opts);
    tb = await createTestbed(opts);
  });
  afterAll(async () => {
    await tb?.destroy();
  });
  return () => {
    if (!tb) throw new Error('test bed not built yet (use it inside a test or a hook after beforeAll)');
    return tb;
  };
}
