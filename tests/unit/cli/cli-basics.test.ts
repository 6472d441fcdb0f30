// The real CLI as a child process: help, argument errors, and `id`.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../../cli/src/main.js';
import { jsonLines, runCli, tempHome } from './helpers.js';

let home: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  home = await tempHome();
});
afterEach(async () => {
  await home.cleanup();
});

const commands = buildProgram()
  .commands.map((c) => c.name())
  .filter((n) => n !== 'help');

describe('parley --help', () => {
  it('documents the exit codes at the top level', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: parley');
    expect(r.stdout).toMatch(/Exit codes:\n\s+0\s+success\n\s+1\s+failure.*\n\s+2\s+usage/);
    for (const name of commands) expect(r.stdout).toContain(name);
  });

  it.each(commands)('%s --help prints usage, global options and exit codes, and exits 0', async (name) => {
    const r = await runCli([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: parley ${name}`);
    expect(r.stdout).toContain('--home <dir>');
    expect(r.stdout).toContain('Exit codes:');
  });
});

describe('argument errors exit 2', () => {
  it('for an unknown command', async () => {
    const r = await runCli(['frobnicate', '--home', home.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });

  it('for no command at all', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: parley');
  });

  it('for an unknown option', async () => {
    const r = await runCli(['id', '--bogus', '--home', home.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--bogus'");
  });

  it('for a bad log level and a bad relay URL', async () => {
    const a = await runCli(['id', '--log-level', 'loud', '--home', home.dir]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('loud');
    const b = await runCli(['id', '--name', 'A', '--relay', 'ftp://example/ws', '--home', home.dir]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('ws://, wss://, http:// or https://');
  });
});

describe('parley id', () => {
  it('requires a name the first time, without creating anything', async () => {
    const r = await runCli(['id', '--home', home.dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--name');
    await expect(stat(join(home.dir, 'identity.json'))).rejects.toThrow(/ENOENT/);
  });

  it('creates the identity once, keeps it stable, and stores the key with mode 0600', async () => {
    const relay = 'ws://127.0.0.1:4999/ws';
    const first = await runCli(['id', '--name', 'Alice', '--relay', relay, '--json', '--home', home.dir]);
    expect(first.code).toBe(0);
    const [a] = jsonLines(first.stdout) as Array<Record<string, unknown>>;
    expect(Object.keys(a!).sort()).toEqual(['id', 'invite', 'name', 'relays']);
    expect(a).toMatchObject({ name: 'Alice', relays: [relay] });
    expect(a!['id']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a!['invite']).toMatch(/^parley:\/\/invite\?v=1&/);
    expect((await stat(join(home.dir, 'identity.json'))).mode & 0o777).toBe(0o600);

    // Second run: same id and invite; --name given again does not create a new key.
    const again = await runCli(['id', '--json', '--home', home.dir]);
    expect(again.code).toBe(0);
    expect(jsonLines(again.stdout)).toEqual([a]);

    // Renaming keeps the id.
    const renamed = await runCli(['id', '--name', 'Alice B', '--json', '--home', home.dir]);
    const [b] = jsonLines(renamed.stdout) as Array<Record<string, unknown>>;
    expect(b!['id']).toBe(a!['id']);
    expect(b!['name']).toBe('Alice B');
  });

  it('reads the home from PARLEY_HOME and prints the invite as text', async () => {
    const r = await runCli(['id', '--name', 'Bob', '--relay', 'ws://127.0.0.1:4999/ws'], {
      env: { PARLEY_HOME: home.dir },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^name: +Bob$/m);
    expect(r.stdout).toMatch(/^parley:\/\/invite\?/m);
    // stdout is a pipe here: no QR code unless asked for.
    expect(r.stdout).not.toContain('▄');
    const qr = await runCli(['id', '--qr'], { env: { PARLEY_HOME: home.dir } });
    expect(qr.stdout).toContain('▄');
  });

  it('warns on stderr when no relay is configured, keeping stdout clean JSON', async () => {
    const r = await runCli(['id', '--name', 'Carol', '--json', '--home', home.dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('names no relay');
    expect(jsonLines(r.stdout)).toHaveLength(1);
  });

  it('refuses a second process on the same home with a clear error', async () => {
    const { acquireHomeLock } = await import('../../../platform/node/src/home-lock.js');
    // This test process holds the lock; the CLI child must refuse.
    const lock = await acquireHomeLock(home.dir);
    try {
      const r = await runCli(['id', '--name', 'Dave', '--home', home.dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`another parley process is using ${home.dir}`);
    } finally {
      await lock.release();
    }
  });
});
