// Runs one long-lived program (a magic-wormhole mailbox or transit relay) inside a test-bed host, as this
// script's child, so the test bed stops it with the host. argv[2]: JSON { cmd, args }. Reports
// { type: 'started', pid } and, when the program exits early, { type: 'exited', code, output }.
import { spawn } from 'node:child_process';
import { z } from 'zod';

const Args = z.object({ cmd: z.string().min(1), args: z.array(z.string()) });
const { cmd, args } = Args.parse(JSON.parse(process.argv[2] ?? '{}'));
const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
let tail = '';
const keep = (d: Buffer): void => {
  tail = (tail + d.toString()).slice(-4_000);
};
child.stdout.on('data', keep);
child.stderr.on('data', keep);
child.on('spawn', () => process.send?.({ type: 'started', pid: child.pid }));
child.on('exit', (code) => {
  process.send?.({ type: 'exited', code, output: tail });
  process.exit(0);
});
const stop = (): void => {
  child.kill('SIGTERM');
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
