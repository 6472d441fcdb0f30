// coturn inside a test-bed host: started as this script's child (so it lives in the host's namespace) and
// stopped by its pid when the script is told to stop. argv[2]: JSON { address, port, user, password } (static
// long-term credentials) or { address, port, secret } (coturn's use-auth-secret: TURN REST credentials), and
// optionally tls: { port, cert, key } (PEM file paths): TURN over TLS (turns:) on that port as well.
// Reports { type: 'ready' } once turnserver answers STUN, or { type: 'error', message }.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { z } from 'zod';

const Tls = z.object({ port: z.number().int().positive(), cert: z.string(), key: z.string() }).optional();
const Args = z.union([
  z.object({
    address: z.string(),
    port: z.number().int().positive(),
    user: z.string(),
    password: z.string(),
    tls: Tls,
  }),
  z.object({ address: z.string(), port: z.number().int().positive(), secret: z.string(), tls: Tls }),
]);
const args = Args.parse(JSON.parse(process.argv[2] ?? '{}'));
const send = (m: { type: 'ready' } | { type: 'error'; message: string }): void => void process.send?.(m);

const turn = spawn(
  '/usr/bin/turnserver',
  [
    '--listening-ip',
    args.address,
    '--relay-ip',
    args.address,
    '--listening-port',
    String(args.port),
    '--min-port',
    '49200',
    '--max-port',
    '49400',
    ...('secret' in args
      ? ['--use-auth-secret', `--static-auth-secret=${args.secret}`]
      : ['--lt-cred-mech', '--user', `${args.user}:${args.password}`]),
    '--realm',
    'parley.test',
    ...(args.tls
      ? ['--tls-listening-port', String(args.tls.port), '--cert', args.tls.cert, '--pkey', args.tls.key]
      : ['--no-tls']),
    '--no-dtls',
    '--no-cli',
    '--no-rfc5780',
    '--no-stun-backward-compatibility',
  ],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);

let tail = '';
const onOutput = (d: Buffer): void => {
  tail = (tail + d.toString()).slice(-4_000);
};
turn.stdout.on('data', onOutput);
turn.stderr.on('data', onOutput);

/**
 * Ready when it answers a STUN binding request on its listening port. coturn gives no readiness signal a
 * parent can wait on, so probe a few times (bounded: 50 tries, 100 ms apart).
 */
function probe(): void {
  const socket = createSocket('udp4');
  const request = Buffer.alloc(20);
  request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
  request.writeUInt32BE(0x2112a442, 4); // magic cookie
  randomBytes(12).copy(request, 8);
  let tries = 0;
  const timer = setInterval(() => {
    if (++tries > 50) {
      clearInterval(timer);
      socket.close();
      send({
        type: 'error',
        message: `turnserver did not answer STUN on ${args.address}:${args.port}: ${tail.slice(-1_000)}`,
      });
      return;
    }
    socket.send(request, args.port, args.address);
  }, 100);
  socket.on('message', (msg) => {
    if (msg.length < 20 || msg.readUInt16BE(0) !== 0x0101 || !msg.subarray(8, 20).equals(request.subarray(8, 20)))
      return;
    clearInterval(timer);
    socket.close();
    send({ type: 'ready' });
  });
}
probe();

turn.on('exit', (code, signal) => {
  send({ type: 'error', message: `turnserver exited (${signal ?? code}): ${tail.slice(-1_000)}` });
  process.exit(1);
});
turn.on('error', (e) => send({ type: 'error', message: `cannot start turnserver: ${e.message}` }));

process.on('SIGTERM', () => {
  turn.removeAllListeners('exit');
  if (turn.pid !== undefined) {
    try {
      process.kill(turn.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  turn.once('exit', () => process.exit(0));
  setTimeout(() => process.exit(0), 1_500).unref();
});
