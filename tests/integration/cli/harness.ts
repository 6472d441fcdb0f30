// Running the real `parley` command inside test-bed hosts: one-shot commands through `ip netns exec`,
// long-lived ones (listen, receive) through fixtures/cli-runner.ts with stdout lines over IPC.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Host, NodeProcess } from '../../testbed/index.js';

export const MAIN = resolve(import.meta.dirname, '../../../cli/src/main.ts');
const RUNNER = resolve(import.meta.dirname, 'fixtures/cli-runner.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type RunnerOut =
  | { type: 'line'; line: string }
  | { type: 'stderr'; text: string }
  | { type: 'exit'; code: number | null; signal: string | null };

export async function newHome(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `parley-cli-${label}-`));
}

/** One `parley` invocation inside `host`; resolves with its exit code and output (never throws on exit != 0). */
export async function parley(
  host: Host,
  home: string,
  args: readonly string[],
  timeoutMs = 90_000,
): Promise<CliResult> {
  const r = await host.exec(process.execPath, ['--import', 'tsx', MAIN, '--home', home, ...args], {
    allowFailure: true,
    timeoutMs,
  });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

export function jsonOf<T = Record<string, unknown>>(r: CliResult): T[] {
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** A long-lived `parley ... --json` command inside `host`, its stdout parsed as JSON lines. */
export class LiveCli {
  readonly lines: Array<Record<string, unknown>> = [];
  stderr = '';
  /** The signal that ended the command, when it did not exit by itself. */
  exitSignal: string | null = null;

  private constructor(readonly proc: NodeProcess<RunnerOut, { signal: string }>) {}

  static start(host: Host, home: string, args: readonly string[]): LiveCli {
    const proc = host.spawnNode<RunnerOut, { signal: string }>(RUNNER, [MAIN, '--home', home, '--json', ...args]);
    return new LiveCli(proc);
  }

  /** The next stdout JSON line matching pred (lines before it are recorded in `lines`). */
  async next(pred: (l: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const seen = this.lines.find(pred);
    if (seen) return seen;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = await this.proc.next(() => true, Math.max(1, deadline - Date.now()));
      if (m.type === 'stderr') this.stderr += m.text;
      else if (m.type === 'exit')
        throw new Error(`command exited (${m.code ?? m.signal}) before a matching line; stderr: ${this.stderr}`);
      else {
        const l = JSON.parse(m.line) as Record<string, unknown>;
        this.lines.push(l);
        if (pred(l)) return l;
      }
    }
  }

  /** Sends a signal and resolves with the command's exit code, collecting remaining output. */
  async stop(signal: 'SIGINT' | 'SIGTERM' | 'SIGKILL' = 'SIGTERM', timeoutMs = 30_000): Promise<number | null> {
    await this.proc.send({ signal });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = await this.proc.next(() => true, Math.max(1, deadline - Date.now()));
      if (m.type === 'stderr') this.stderr += m.text;
      else if (m.type === 'line') this.lines.push(JSON.parse(m.line) as Record<string, unknown>);
      else {
        this.exitSignal = m.signal;
        return m.code;
      }
    }
  }
}
