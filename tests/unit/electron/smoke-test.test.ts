import { describe, expect, it } from 'vitest';
import { isAppUrl } from '../../../electron/main/app-origin.js';
import { runSmokeTest, wantsSmokeTest, type SmokeTestDeps } from '../../../electron/main/smoke-test.js';

/** Timers the test fires by hand: no waiting on the wall clock. */
function manualTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  let next = 1;
  return {
    pending,
    setTimer: (fn: () => void, ms: number) => {
      pending.set(next, { fn, ms });
      return next++;
    },
    clearTimer: (h: unknown) => void pending.delete(h as number),
    fire(ms: number) {
      for (const [id, t] of [...pending]) {
        if (t.ms !== ms) continue;
        pending.delete(id);
        t.fn();
      }
    },
  };
}

function harness(probeResults: unknown[], url = 'app://parley/index.html') {
  const timers = manualTimers();
  const outcomes: Parameters<SmokeTestDeps['done']>[0][] = [];
  let probes = 0;
  const fail = runSmokeTest({
    probe: async () => probeResults[Math.min(probes++, probeResults.length - 1)],
    url: () => url,
    isAppUrl,
    done: (o) => outcomes.push(o),
    timeoutMs: 60_000,
    setTimer: timers.setTimer,
    clearTimer: timers.clearTimer,
  });
  return { timers, outcomes, fail, probes: () => probes };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('--smoke-test', () => {
  it('is asked for with the flag only', () => {
    expect(wantsSmokeTest(['/opt/Parley/parley', '--smoke-test'])).toBe(true);
    expect(wantsSmokeTest(['/opt/Parley/parley', 'parley://invite/x'])).toBe(false);
  });

  it('passes once the UI has mounted, polling until then', async () => {
    const h = harness([false, false, true]);
    await settle();
    expect(h.outcomes).toEqual([]);
    h.timers.fire(250);
    await settle();
    h.timers.fire(250);
    await settle();
    expect(h.outcomes).toEqual([{ ok: true, url: 'app://parley/index.html' }]);
    expect(h.probes()).toBe(3);
    expect(h.timers.pending.size).toBe(0);
  });

  it('fails when the UI never mounts, when the page is not the app, or when the renderer dies', async () => {
    const never = harness([false]);
    await settle();
    never.timers.fire(60_000);
    expect(never.outcomes).toEqual([{ ok: false, reason: 'the UI did not mount within 60000 ms' }]);

    const elsewhere = harness([true], 'https://evil.example/');
    await settle();
    expect(elsewhere.outcomes).toEqual([{ ok: false, reason: 'the window shows https://evil.example/, not the app' }]);

    const crashed = harness([false]);
    crashed.fail('renderer gone: crashed');
    await settle();
    crashed.timers.fire(250);
    expect(crashed.outcomes).toEqual([{ ok: false, reason: 'renderer gone: crashed' }]);
  });
});
