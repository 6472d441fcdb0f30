// Issue 12.17: the CLI says plainly what a direct WebRTC connection exposes and how to avoid it.
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

describe('parley --help', () => {
  it('names the WebRTC stack a direct connection exposes, the IP leak, and --relay-only', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Direct connections (the default) and what they expose');
    expect(stdout).toContain('libwebrtc');
    expect(stdout).toContain('M106');
    expect(stdout).toContain('The contact then learns your IP addresses');
    expect(stdout).toContain('With --relay-only no direct connection is made or accepted');
  });
});
