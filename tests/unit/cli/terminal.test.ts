// Issue 12.12: a contact's text must not drive the terminal. A hostile contact sends ESC/CSI (forged
// line, cursor moves), OSC 52 (clipboard write), C1 CSI, DEL, bidi overrides and a newline that forges a
// second message line; human output of listen, receive and chat shows them as visible escapes, one line
// per message, while --json keeps the text exact.
import { describe, expect, it } from 'vitest';
import { createHumanLogger } from '../../../cli/src/human-log.js';
import { safeOutput, safeText } from '../../../cli/src/terminal.js';
import { useCliWorld } from './cli-world.js';

const HOSTILE =
  'hi\x1b[2K\r12:00:00 Bank: send money\x1b]52;c;cm0gLXJmIH4=\x07 \x9b31m red\x7f \u202etxt.exe\u2066 \u2028\nline2';
// eslint-disable-next-line no-control-regex -- the characters a terminal must never receive raw
const DANGEROUS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

describe('safeText / safeOutput', () => {
  it('shows every control, C1, DEL and bidi character as a visible escape', () => {
    const s = safeText(HOSTILE);
    expect(s).not.toMatch(DANGEROUS);
    expect(s).not.toContain('\n');
    expect(s).toContain('\\x1b[2K');
    expect(s).toContain('\\x1b]52;c;');
    expect(s).toContain('\\x07');
    expect(s).toContain('\\x9b31m');
    expect(s).toContain('\\x7f');
    expect(s).toContain('\\u202e');
    expect(s).toContain('\\u2066');
    expect(s).toContain('\\n');
    expect(safeText('plain text, emoji 👍🏽 and 中文')).toBe('plain text, emoji 👍🏽 and 中文');
  });

  it('safeOutput keeps our own newlines and tabs but nothing else', () => {
    expect(safeOutput('a\nb\tc')).toBe('a\nb\tc');
    expect(safeOutput('a\x1b]52;c;x\x07b')).toBe('a\\x1b]52;c;x\\x07b');
  });

  it('the human logger writes readable lines, not JSON, with values escaped', () => {
    const lines: string[] = [];
    const log = createHumanLogger('warn', (l) => lines.push(l));
    log.info({ a: 1 }, 'not shown');
    log.warn({ url: 'ws://r/ws', code: 'channel-timeout', message: 'x\x1b[31m' }, 'relay error');
    expect(lines).toEqual(['parley: warning: relay error (url=ws://r/ws, code=channel-timeout, message=x\\x1b[31m)\n']);
  });
});

const world = useCliWorld({ alice: 'Alice', bob: 'Bob' }, { contacts: [['alice', 'bob']] });
const ids = world.users;
const { cli } = world;

/** A human-mode command: resolves once stderr contains `ready`; stop() collects its output. */
function human(home: string, args: string[], ready: string) {
  const child = world.spawn(home, args);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const started = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes(ready)) resolve();
    });
    void exited.then(() => reject(new Error(`exited before "${ready}": ${stderr}`)));
  });
  return {
    started,
    waitStdout: async (needle: string) => {
      while (!stdout.includes(needle)) await new Promise((r) => child.stdout!.once('data', r));
    },
    stop: async () => {
      child.kill('SIGINT');
      await exited;
      return { stdout, stderr };
    },
  };
}

function assertEscaped(stdout: string, stderr: string): void {
  expect(stdout + stderr).not.toMatch(DANGEROUS);
  // The message is one line: the newline it carried did not forge a second one.
  const lines = stdout.split('\n').filter((l) => l.includes('send money'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain('\\x1b]52;c;cm0gLXJmIH4=\\x07');
  expect(lines[0]).toContain('\\nline2');
  expect(stdout).not.toMatch(/^line2/m);
}

describe('hostile message text from a contact', () => {
  it('listen (human) prints it escaped on one line; listen --json keeps it exact', async () => {
    const bob = human(ids.bob.home, ['listen'], 'listening as');
    await bob.started;
    const r = await cli(ids.alice.home, ['say', 'Bob', HOSTILE]);
    expect(r.code, r.stderr).toBe(0);
    await bob.waitStdout('line2');
    const { stdout, stderr } = await bob.stop();
    assertEscaped(stdout, stderr);
    // Human mode: log lines on stderr are readable text, never pino JSON.
    expect(stderr).not.toMatch(/^\{/m);

    // The same message again through --json: exact text (the outbox is empty, so send a second one).
    const listenJson = world.json(ids.bob.home, ['listen']);
    await listenJson.waitFor((l) => l['type'] === 'relay' && l['state'] === 'online');
    expect((await cli(ids.alice.home, ['say', 'Bob', HOSTILE + '#2'])).code).toBe(0);
    const got = await listenJson.waitFor((l) => l['type'] === 'message' && String(l['text']).endsWith('#2'));
    expect(got['text']).toBe(HOSTILE + '#2');
    await listenJson.stop('SIGINT');
  }, 60_000);

  it('receive (human) prints chat messages escaped', async () => {
    const bob = human(ids.bob.home, ['receive', '--dir', `${ids.bob.home}/in`], 'receiving into');
    await bob.started;
    expect((await cli(ids.alice.home, ['say', 'Bob', HOSTILE + '#3'])).code).toBe(0);
    await bob.waitStdout('#3');
    const { stdout, stderr } = await bob.stop();
    assertEscaped(stdout, stderr);
  }, 60_000);

  it('chat (human) shows history escaped', async () => {
    const r = await cli(ids.bob.home, ['chat', 'Alice', '--history', '5', '--timeout', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(DANGEROUS);
    const lines = r.stdout.split('\n').filter((l) => l.includes('send money'));
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toContain('\\x1b]52;c;');
  }, 60_000);
});
