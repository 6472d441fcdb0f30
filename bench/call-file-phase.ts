// bench:call's "file during a relay call" phase (issue #11 item 6): a 16 MB file over the relay while a relay
// call runs, the relay's link limited to 12 Mbit/s with a 50 ms queue (tests/harness/app/call-file.ts runs the
// scenario through the UI). Reports the call latency P95 at the file's receiver during the transfer (the worst
// stats-panel reading, like relayLatencyP95Ms) beside the same call's P95 just before it, the file's rate, and
// the delay to the receiver's media worker (without the playout buffer) during and before.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Host } from '../tests/testbed/index.js';
import type { AppUser } from '../tests/harness/app/app.js';
import { fileDuringRelayCall } from '../tests/harness/app/call-file.js';

export interface FileDuringCallFigures {
  fileDuringCallLatencyP95Ms: number | null;
  fileDuringCallBaselineP95Ms: number | null;
  fileDuringCallMBps: number | null;
  /** Capture → arrival at the receiver's media worker, p50 (median of the readings), during and before. */
  fileDuringCallArrivalP50Ms: number | null;
  fileDuringCallArrivalBaselineP50Ms: number | null;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** Runs with no call up; leaves none up (Alice and Bob are contacts, Alice calls Bob). */
export async function fileDuringCallPhase(
  alice: AppUser,
  bob: AppUser,
  hosts: { b: Host; relay: Host },
  trace?: (line: string) => void,
): Promise<FileDuringCallFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-call-file-'));
  try {
    const m = await fileDuringRelayCall({
      alice,
      bob,
      bobHost: hosts.b,
      relayHost: hosts.relay,
      dir,
      ...(trace ? { trace } : {}),
      // BENCH_CALL_FILE_RATE: the relay link's rate (tc tbf syntax; default 12mbit), e.g. 1gbit for the CPU's share.
      ...(process.env.BENCH_CALL_FILE_RATE ? { rate: process.env.BENCH_CALL_FILE_RATE } : {}),
    });
    if (m.receivedHash !== m.sentHash) throw new Error('the file sent during the call arrived corrupted');
    return {
      fileDuringCallLatencyP95Ms: m.during.length > 0 ? Math.max(...m.during) : null,
      fileDuringCallBaselineP95Ms: m.before.length > 0 ? Math.max(...m.before) : null,
      fileDuringCallMBps: Number((m.bytes / 1e6 / (m.transferMs / 1000)).toFixed(2)),
      fileDuringCallArrivalP50Ms: median(m.arrivalDuring),
      fileDuringCallArrivalBaselineP50Ms: median(m.arrivalBefore),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
