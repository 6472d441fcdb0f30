// A TypeScript script running inside a host namespace, talked to over a Node IPC channel only (never over the
// network from the root namespace). `ip netns exec` execs the command, so the pid we get is node's own; the
// child leads its own process group, so kill() reaches anything it forked too.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Inbox } from './queue.js';
import { TailBuffer } from './output.js';

const require = createRequire(import.meta.url);
const TSX_LOADER = pathToFileURL(require.resolve('tsx')).href;
const EXIT_WITH_PARENT = fileURLToPath(new URL('./peers/exit-with-parent.ts', import.meta.url));
// Scripts in a namespace start programs too (coturn, redis-server): the same system-deps check applies there.
const SPAWN_GUARD = fileURLToPath(new URL('../setup/spawn-guard.ts', import.meta.url));

export interface SpawnNodeOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Bytes of stdout and of stderr kept for diagnostics (default 64 KiB each). */
  outputLimit?: number;
  /** 'advanced' lets messages carry Buffers and Maps (structured clone); default 'json'. */
  serialization?: 'json' | 'advanced';
  /** Make the script exit when the test process goes away (default true), so no orphan outlives its test. */
  exitWithParent?: boolean;
  /** Echo the child's stdout/stderr to this process's stderr as it comes (debugging). */
  echo?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class NodeProcess<Out = unknown, In = unknown> {
  readonly pid: number;
  readonly inbox: Inbox<Out>;
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | null = null;
  private readonly out: TailBuffer;
  private readonly err: TailBuffer;
  private readonly child: ChildProcess;

  constructor(
    readonly label: string,
    ns: string,
    script: string,
    args: readonly string[],
    opts: SpawnNodeOptions = {},
  ) {
    this.out = new TailBuffer(opts.outputLimit);
    this.err = new TailBuffer(opts.outputLimit);
    this.inbox = new Inbox<Out>(10_000, () => this.diagnostics());
    const imports = ['--import', TSX_LOADER, '--import', pathToFileURL(SPAWN_GUARD).href];
    if (opts.exitWithParent !== false) imports.push('--import', pathToFileURL(EXIT_WITH_PARENT).href);
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...imports, script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: opts.serialization ?? 'json',
      env: { ...process.env, ...opts.env },
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      detached: true,
    });
    if (this.child.pid === undefined) throw new Error(`cannot spawn ${label}`);
    this.pid = this.child.pid;
    this.child.stdout!.on('data', (d: Buffer) => {
      this.out.push(d);
      if (opts.echo) process.stderr.write(`[${label}] ${d.toString()}`);
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.err.push(d);
      if (opts.echo) process.stderr.write(`[${label}!] ${d.toString()}`);
    });
    this.child.on('message', (m) => this.inbox.push(m as Out));
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.on('error', (e) => {
        this.err.push(Buffer.from(`spawn error: ${e.message}\n`));
      });
      // 'close' fires after stdio drained, so diagnostics are complete by then.
      this.child.on('close', (code, signal) => {
        this.exitInfo = { code, signal };
        this.inbox.close(`${label} (pid ${this.pid}) exited with ${signal ?? code}`);
        resolve(this.exitInfo);
      });
    });
  }

  get alive(): boolean {
    return this.exitInfo === null;
  }

  send(msg: In): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.child.connected) return reject(new Error(`${this.label}: IPC channel closed${this.diagnostics()}`));
      this.child.send(msg as object, (err) => (err ? reject(err) : resolve()));
    });
  }

  next<M extends Out = Out>(predicate: (m: Out) => boolean = () => true, timeoutMs = 15_000): Promise<M> {
    return this.inbox.next(predicate, timeoutMs, `matching message from ${this.label}`) as Promise<M>;
  }

  [Symbol.asyncIterator](): AsyncGenerator<Out> {
    return this.inbox[Symbol.asyncIterator]();
  }

  stdout(): string {
    return this.out.text();
  }

  stderr(): string {
    return this.err.text();
  }

  diagnostics(): string {
    return `  ${this.label} pid ${this.pid}${this.exitInfo ? ` exited ${this.exitInfo.signal ?? this.exitInfo.code}` : ''}\n  stderr: ${tail(this.stderr())}\n  stdout: ${tail(this.stdout())}`;
  }

  /** Signals the process group this handle started (the child leads it). No-op once exited. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.alive) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      try {
        process.kill(this.pid, signal);
      } catch {
        /* already gone */
      }
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 3_000): Promise<ExitInfo> {
    if (!this.alive) return this.exited;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

function tail(s: string, n = 2_000): string {
  const t = s.trim();
  return t ? (t.length > n ? '…' + t.slice(-n) : t).replace(/\n/g, '\n    ') : '(empty)';
}
