import { describe, expect, it } from 'vitest';
import { EncodeBudget } from '../../../../core/src/call/relay-media/encode-budget.js';

/** Frames at 30 fps from `from` to `to` (ms), each taking `ms(t)` from capture to encoded. */
function run(budget: EncodeBudget, from: number, to: number, ms: (t: number) => number): Array<1 | 2> {
  const scales: Array<1 | 2> = [];
  for (let t = from; t < to; t += 33) {
    budget.record(t, ms(t));
    scales.push(budget.scale);
  }
  return scales;
}

describe('relay media encode budget (picture size the CPU affords)', () => {
  it('starts at half size and steps up once half-size frames encode fast enough for four times the work', () => {
    const budget = new EncodeBudget();
    expect(budget.scale).toBe(2);
    run(budget, 0, 2_900, () => 5);
    expect(budget.scale).toBe(2); // held for 3 s first
    run(budget, 2_900, 4_000, () => 5);
    expect(budget.scale).toBe(1);
    // Full-size frames that keep real time stay full size.
    run(budget, 4_000, 20_000, () => 20);
    expect(budget.scale).toBe(1);
  });

  it('stays at half size on a machine where four times the work would not keep real time', () => {
    const budget = new EncodeBudget();
    // Half-size frames at 10–26 ms (a busy 2-core machine): full size would take ~40–100 ms a frame.
    run(budget, 0, 60_000, (t) => 10 + ((t / 33) % 17));
    expect(budget.scale).toBe(2);
  });

  it('steps down when full-size frames take longer than a frame interval, and waits twice as long before trying again', () => {
    const budget = new EncodeBudget();
    run(budget, 0, 4_000, () => 5);
    expect(budget.scale).toBe(1);
    // The machine got busy: full-size frames take 60 ms. It steps down within a few frames.
    const busy = run(budget, 4_000, 6_000, () => 60);
    const downAt = 4_000 + busy.indexOf(2) * 33;
    expect(budget.scale).toBe(2);
    expect(budget.stepsDown).toBe(1);
    expect(downAt).toBeLessThan(4_300);
    // Quick again from 6 s: the next step up comes at least 6 s (the 3 s hold, doubled) after the step down,
    // and once the last 6 s of frames were quick (the busy 60 ms frames at half size count against it).
    const quick = run(budget, 6_000, 16_000, () => 5);
    const upAt = 6_000 + quick.indexOf(1) * 33;
    expect(upAt - downAt).toBeGreaterThanOrEqual(6_000);
    expect(upAt).toBeGreaterThan(11_500);
    expect(upAt).toBeLessThan(12_100);
  });

  it('a quiet 2 s between busier spells is not headroom: it stays at half size', () => {
    const budget = new EncodeBudget();
    // A loaded machine: half-size frames at 20 ms for 4 s, then 2.5 s at 5 ms (under the step-up bound), again.
    const scales = run(budget, 0, 60_000, (t) => (t % 6_500 < 4_000 ? 20 : 5));
    expect(scales.every((s) => s === 2)).toBe(true);
  });

  it('counts frames skipped because the encoder was still busy as over budget', () => {
    const budget = new EncodeBudget();
    run(budget, 0, 4_000, () => 5);
    expect(budget.scale).toBe(1);
    // Every fourth frame skipped, the others quick: the encoder does not keep real time at this size.
    run(budget, 4_000, 6_000, (t) => (Math.round(t / 33) % 4 === 0 ? Infinity : 10));
    expect(budget.scale).toBe(2);
  });
});
