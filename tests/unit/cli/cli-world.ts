// A loopback relay and a few CLI users, for tests of the real `parley` command. Everything runs with
// --relay-only: WebRTC runs only inside test namespaces (tests/integration/cli), never in the root one.
// `useCliWorld` registers its own beforeAll/afterAll: relay up, one home per user (identity made,
// listed contacts added both ways); afterwards children killed, cleanups run, relay closed, homes removed.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect } from 'vitest';
import { startRelay, silentLogger, type RunningRelay } from '../../../signaling/server/index.js';
import { JsonChild, jsonLines, runCli, spawnCli, tempHome, type CliResult, type RunOptions } from './helpers.js';

export interface CliUser {
  readonly name: string;
  readonly id: string;
  readonly invite: string;
  readonly home: string;
}

export interface CliWorldOptions<K extends string> {
  /** Pairs that add each other's invites (mutual add: contacts at once, no request to accept). */
  contacts?: Array<[K, K]>;
  /** Default kill timeout of every `cli()` run. */
  timeoutMs?: number;
}

export interface CliWorld<K extends string> {
  readonly relay: RunningRelay;
  readonly users: Readonly<Record<K, CliUser>>;
  /** Runs `parley --relay-only --home <home> …args` to completion. */
  cli(home: string, args: readonly string[], opts?: RunOptions): Promise<CliResult>;
  /** Starts a long-running `parley --relay-only --home <home> --json …args`, killed after the file. */
  json(home: string, args: readonly string[]): JsonChild;
  /** Starts a long-running human-mode `parley --relay-only --home <home> …args`, killed after the file. */
  spawn(home: string, args: readonly string[]): ChildProcess;
  /** A fresh temporary directory, removed after the file. */
  temp(): Promise<string>;
  /** Runs after the file, before the temporary directories are removed (e.g. unmount). */
  onCleanup(fn: () => unknown): void;
}

export function useCliWorld<K extends string>(names: Record<K, string>, options: CliWorldOptions<K> = {}): CliWorld<K> {
  let relay: RunningRelay | undefined;
  const users = {} as Record<K, CliUser>;
  const temps: Array<() => Promise<void>> = [];
  const children: ChildProcess[] = [];
  const cleanups: Array<() => unknown> = [];

  const world: CliWorld<K> = {
    get relay(): RunningRelay {
      if (!relay) throw new Error('the relay starts in beforeAll');
      return relay;
    },
    users,
    cli: (home, args, opts = {}) =>
      runCli(['--relay-only', '--home', home, ...args], {
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...opts,
      }),
    json: (home, args) => {
      const child = new JsonChild(spawnCli(['--relay-only', '--home', home, '--json', ...args]));
      children.push(child.child);
      return child;
    },
    spawn: (home, args) => {
      const child = spawnCli(['--relay-only', '--home', home, ...args]);
      children.push(child);
      return child;
    },
    temp: async () => {
      const t = await tempHome();
      temps.push(t.cleanup);
      return t.dir;
    },
    onCleanup: (fn) => cleanups.push(fn),
  };

  beforeAll(async () => {
    relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger });
    for (const key of Object.keys(names) as K[]) {
      const home = await world.temp();
      const r = await world.cli(home, ['id', '--name', names[key], '--relay', relay.url, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const [made] = jsonLines(r.stdout) as Array<{ id: string; invite: string }>;
      users[key] = { name: names[key], id: made!.id, invite: made!.invite, home };
    }
    for (const [a, b] of options.contacts ?? []) {
      for (const [from, to] of [
        [a, b],
        [b, a],
      ] as const) {
        const add = await world.cli(users[from].home, ['add', users[to].invite]);
        expect(add.code, add.stderr).toBe(0);
      }
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('close', () => resolve());
            c.kill('SIGKILL');
          }),
      ),
    );
    for (const fn of cleanups.reverse()) await fn();
    await relay?.close();
    for (const rm of temps) await rm();
  });

  return world;
}
