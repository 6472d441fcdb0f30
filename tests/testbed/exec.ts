// One-shot command runner for the test bed: argv only (no shell), bounded time, stderr in the error message.
import { execFile, execFileSync } from 'node:child_process';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly cmd: string,
    readonly args: readonly string[],
    readonly code: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`\`${[cmd, ...args].join(' ')}\` failed (${String(code)}): ${stderr.trim() || stdout.trim() || 'no output'}`);
    this.name = 'CommandError';
  }
}

export interface ExecOptions {
  timeoutMs?: number;
  /** Resolve instead of throwing on a non-zero exit (the caller inspects `code`). */
  allowFailure?: boolean;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
}

export function run(
  cmd: string,
  args: readonly string[],
  opts: ExecOptions = {},
): Promise<ExecResult & { code: number }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 20_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr, code: 0 });
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
        const code = typeof e.code === 'number' ? e.code : (e.code ?? null);
        if (opts.allowFailure && typeof code === 'number') return resolve({ stdout, stderr, code });
        reject(new CommandError(cmd, args, e.killed ? 'timed out' : code, stdout, stderr));
      },
    );
    // The command may exit before reading stdin (EPIPE): its exit status tells the story, not the pipe.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });
}

/** Synchronous variant for process-exit cleanup, where nothing asynchronous runs any more. Never throws. */
export function runSyncQuiet(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { timeout: 10_000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}
