// npm run bench:peers — Parley's `parley send` / `parley receive` beside magic-wormhole, the same file between
// the same two test-bed hosts (a → b; relays in a third host), in one run with interleaved rounds:
//   direct  both tools on the open LAN (wormhole: transit hints; Parley: its TCP path, raced with WebRTC)
//   relay   only the relay host's ports open (iptables in a and b); wormhole through its transit relay with
//           --no-listen, Parley with --relay-only through its end-to-end-encrypted relay
// Each transfer is a fresh pair of processes, as a user runs them, timed and measured by /usr/bin/time:
// wall seconds of the sender (it exits once the receiver confirmed), CPU seconds per GB of sender, receiver
// and relay, peak RSS. The received file's SHA-256 must equal the source's.
// Needs (not installed by .ci/run: no test uses them): apt-get install -y magic-wormhole
//   python3-magic-wormhole-mailbox-server magic-wormhole-transit-relay time   (see .ci/system-deps.json)
// Env: PEERS_MB (default 1024 MiB), PEERS_ROUNDS (default 2), PEERS_MODES (default direct,relay),
// PEERS_TOOLS (default wormhole,parley), PEERS_CPU_PROF=<dir> (V8 CPU profiles of every parley process),
// PEERS_BASE=<dir> (another Parley build, e.g. main's `dist` + `bin` copied there with a node_modules link:
// run as tool `base` in the same interleaved rounds, with its own relay from <dir>/dist, for before/after
// figures of a change). With PEERS_CPU_PROF the relays write profiles there too (relay-<pid>.cpuprofile).
// PEERS_LOG_DIR=<dir>: every command's stderr is written there (with PARLEY_LOG=info: the session's events).
// Each transfer line shows minor page faults per GB of sender/receiver (fresh memory touched).
// Last line: one JSON object.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { assertTestbedAvailable, createTestbed, type Host, type NodeProcess } from '../tests/testbed/index.js';
import { startRelayHost } from '../tests/harness/peers/harness.js';
import { randomFile, sha256File, tempDir } from '../tests/harness/transfer-peers/harness.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.PEERS_MB ?? 1024) * MiB;
const ROUNDS = Number(process.env.PEERS_ROUNDS ?? 2);
const MODES = (process.env.PEERS_MODES ?? 'direct,relay').split(',') as Mode[];
const TOOLS = [
  ...((process.env.PEERS_TOOLS ?? 'wormhole,parley').split(',') as Tool[]),
  ...(process.env.PEERS_BASE ? (['base'] as const) : []),
];
/** A folder: every parley process writes a V8 CPU profile there (node --cpu-prof). */
const CPU_PROF_DIR = process.env.PEERS_CPU_PROF;
const BASE_DIR = process.env.PEERS_BASE;
/** A folder: each command's stderr is written there (with PARLEY_LOG=debug: the session's timeline). */
const LOG_DIR = process.env.PEERS_LOG_DIR;
let logN = 0;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PARLEY = join(ROOT, 'bin', 'parley.mjs');
const PROGRAM_HOST = fileURLToPath(new URL('./peers/program-host.ts', import.meta.url));
const MAILBOX_PORT = 4000;
const TRANSIT_PORT = 4001;
const TIME_FORMAT = 'BENCHTIME %e %U %S %M %R';
const RUN_TIMEOUT_MS = 600_000;
const log = (...args: unknown[]) => console.log('[peers]', ...args);
// Scripts this bench runs in namespaces may start wormhole's programs (benchPackages in .ci/system-deps.json).
process.env.PARLEY_SPAWN_SCOPE = 'bench';

type Mode = 'direct' | 'relay';
type Tool = 'wormhole' | 'parley' | 'base';

interface Usage {
  wallS: number;
  cpuS: number;
  rssMB: number;
  /** Minor page faults (fresh memory touched: large buffers allocated and freed per record show here). */
  minorFaults: number;
}
interface Run {
  tool: Tool;
  mode: Mode;
  round: number;
  mbps: number;
  sender: Usage;
  receiver: Usage;
  relayCpuS: number;
  /** The relay's CPU seconds in the kernel (part of relayCpuS). */
  relaySysS: number;
  hashOk: boolean;
  /** Parley: the routes its progress lines reported (tcp, webrtc, relay). */
  routes?: string[];
}

function requirePrograms(): void {
  const missing = ['wormhole', 'twist3', 'time'].filter(
    (p) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', p]).status !== 0,
  );
  const plugins = spawnSync('twist3', ['--help'], { encoding: 'utf8' }).stdout ?? '';
  if (!plugins.includes('wormhole-mailbox')) missing.push('wormhole-mailbox plugin');
  if (!plugins.includes('transitrelay')) missing.push('transitrelay plugin');
  if (missing.length) {
    console.error(
      `bench:peers needs ${missing.join(', ')}:\n  apt-get install -y magic-wormhole python3-magic-wormhole-mailbox-server magic-wormhole-transit-relay time`,
    );
    process.exit(1);
  }
}

/** CPU seconds a live process has used so far: [user, system]. */
function cpuSeconds(pid: number): [number, number] {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return [Number(fields[11]) / 100, Number(fields[12]) / 100];
}

/** One command inside `host` under /usr/bin/time; its usage, parsed from the last line of stderr. */
async function timed(host: Host, cmd: string, args: readonly string[]): Promise<Usage & { stdout: string }> {
  const r = await host.exec('/usr/bin/time', ['-f', TIME_FORMAT, cmd, ...args], {
    allowFailure: true,
    timeoutMs: RUN_TIMEOUT_MS,
  });
  const m = /BENCHTIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+) (\d+)/.exec(r.stderr);
  if (r.code !== 0 || !m) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}):\n${r.stderr.slice(-2000)}`);
  if (LOG_DIR) writeFileSync(join(LOG_DIR, `${host.name}-${++logN}.log`), `${args.join(' ')}\n${r.stderr}`);
  return {
    wallS: Number(m[1]),
    cpuS: Number(m[2]) + Number(m[3]),
    rssMB: Number(m[4]) / 1024,
    minorFaults: Number(m[5]),
    stdout: r.stdout,
  };
}

function startProgram(
  host: Host,
  cmd: string,
  args: string[],
): NodeProcess<{ type: string; pid?: number; output?: string }> {
  return host.spawnNode(PROGRAM_HOST, [JSON.stringify({ cmd, args })]);
}

/** Waits until a TCP port accepts connections inside `host` (bounded: 15 s). */
async function waitForPort(host: Host, port: number): Promise<void> {
  const probe = `const s=require('net').connect(${port},'${host.address}');s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));`;
  for (let i = 0; i < 75; i++) {
    if ((await host.exec(process.execPath, ['-e', probe], { allowFailure: true })).code === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`port ${port} on ${host.name} never opened`);
}

const fmt = (n: number, d = 1) => n.toFixed(d);

/** The distinct routes, in order of first use, that `parley send --json` progress lines reported. */
function routesOf(stdout: string): string[] {
  const seen: string[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const l = JSON.parse(line) as { type?: string; route?: unknown };
      if (l.type === 'progress' && typeof l.route === 'string' && !seen.includes(l.route)) seen.push(l.route);
    } catch {
      // not JSON
    }
  }
  return seen;
}

async function main(): Promise<void> {
  requirePrograms();
  await assertTestbedAvailable();
  log('building the parley command (tsc -b, build/bundle-cli.mjs)…');
  if (spawnSync('npx', ['tsc', '-b'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) throw new Error('tsc -b failed');
  // The one-file bundle bin/parley.mjs runs while fresh (build/bundle-cli.mjs): start-up as users get it.
  if (spawnSync(process.execPath, ['build/bundle-cli.mjs'], { cwd: ROOT, stdio: 'inherit' }).status !== 0)
    throw new Error('bundling the parley command failed');

  const tb = await createTestbed({ hosts: ['a', 'b', 'relay'] });
  const work = tempDir('peers');
  try {
    const { a, b, relay: r } = tb.hosts;
    // With PEERS_CPU_PROF the Parley relay writes a V8 CPU profile there too (on its graceful exit).
    const profEnv: Record<string, string> = CPU_PROF_DIR ? { RELAY_CPU_PROF: CPU_PROF_DIR } : {};
    const parleyRelay = await startRelayHost(r, 'honest', 0, { env: profEnv });
    // Tool `base` runs its own build's relay too (from BASE_DIR/dist), so relay changes get before/after figures.
    const baseRelay = BASE_DIR
      ? await startRelayHost(r, 'honest', 0, {
          env: {
            ...profEnv,
            RELAY_MODULE: pathToFileURL(join(BASE_DIR, 'dist', 'signaling', 'server', 'index.js')).href,
          },
        })
      : null;
    const mailbox = startProgram(r, 'twist3', [
      'wormhole-mailbox',
      `--port=tcp:${MAILBOX_PORT}:interface=${r.address}`,
      `--channel-db=${join(work, 'mailbox.sqlite')}`,
    ]);
    const transit = startProgram(r, 'twist3', ['transitrelay', `--port=tcp:${TRANSIT_PORT}:interface=${r.address}`]);
    const transitPid = (await transit.next((m) => m.type === 'started', 15_000)).pid!;
    await mailbox.next((m) => m.type === 'started', 15_000);
    await Promise.all([waitForPort(r, MAILBOX_PORT), waitForPort(r, TRANSIT_PORT)]);
    const wormholeServers = [
      '--relay-url',
      `ws://${r.address}:${MAILBOX_PORT}/v1`,
      '--transit-helper',
      `tcp:${r.address}:${TRANSIT_PORT}`,
    ];

    // Two Parley identities that know each other (mutual invites), on the Parley relay.
    // Tool `base` has its own pair on its own relay (an invite names its relay).
    const home = {
      a: join(work, 'alice'),
      b: join(work, 'bob'),
      baseA: join(work, 'base-alice'),
      baseB: join(work, 'base-bob'),
    };
    const parley = (host: Host, h: string, args: string[], bin = PARLEY, relayUrl = parleyRelay.url) =>
      timed(host, process.execPath, [
        ...(CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : []),
        bin,
        '--home',
        h,
        '--relay',
        relayUrl,
        ...args,
      ]);
    const pairUp = async (homeA: string, homeB: string, bin: string, relayUrl: string): Promise<void> => {
      const ia = JSON.parse(
        (await parley(a, homeA, ['--json', 'id', '--name', 'Alice'], bin, relayUrl)).stdout.trim().split('\n')[0]!,
      ) as { invite: string };
      const ib = JSON.parse(
        (await parley(b, homeB, ['--json', 'id', '--name', 'Bob'], bin, relayUrl)).stdout.trim().split('\n')[0]!,
      ) as { invite: string };
      await parley(a, homeA, ['add', ib.invite], bin, relayUrl);
      await parley(b, homeB, ['add', ia.invite], bin, relayUrl);
    };
    await pairUp(home.a, home.b, PARLEY, parleyRelay.url);
    if (baseRelay) await pairUp(home.baseA, home.baseB, join(BASE_DIR!, 'bin', 'parley.mjs'), baseRelay.url);

    log(`writing a ${SIZE / MiB} MiB random file…`);
    const src = randomFile(work, 'payload.bin', SIZE);
    const srcHash = await sha256File(src);

    const block = async (on: boolean): Promise<void> => {
      for (const h of [a, b]) {
        if (on)
          await h.blockAllExcept({
            tcpPorts: [parleyRelay.port, ...(baseRelay ? [baseRelay.port] : []), MAILBOX_PORT, TRANSIT_PORT],
            host: r,
          });
        else await h.unblock();
      }
    };

    // Receiver memory growth is measured against a receiver of a 1 MiB file (the same process otherwise).
    const tiny = randomFile(work, 'tiny.bin', MiB);
    const baseOut = join(work, 'out-baseline');
    const [baseRecv] = await Promise.all([
      parley(b, home.b, ['--json', 'receive', '--once', '--dir', baseOut]),
      parley(a, home.a, ['--json', 'send', 'Bob', tiny]),
    ]);
    rmSync(baseOut, { recursive: true, force: true });
    log(`baseline receiver (1 MiB): peak RSS ${fmt(baseRecv.rssMB, 0)} MB`);

    const runs: Run[] = [];
    let codeN = 0;
    const runOnce = async (tool: Tool, mode: Mode, round: number): Promise<Run> => {
      const out = join(work, `out-${tool}-${mode}-${round}`);
      const relayPid = tool === 'wormhole' ? transitPid : tool === 'base' ? baseRelay!.proc.pid : parleyRelay.proc.pid;
      const relayBefore = cpuSeconds(relayPid);
      let sender: Usage;
      let receiver: Usage;
      let received: string;
      let routes: string[] | undefined;
      if (tool === 'wormhole') {
        const code = `${++codeN}-parley-bench`;
        const listen = mode === 'relay' ? ['--no-listen'] : [];
        received = out;
        [receiver, sender] = await Promise.all([
          timed(b, 'wormhole', [
            ...wormholeServers,
            'receive',
            '--accept-file',
            '--hide-progress',
            ...listen,
            '-o',
            out,
            code,
          ]),
          timed(a, 'wormhole', [...wormholeServers, 'send', '--hide-progress', ...listen, '--code', code, src]),
        ]);
      } else {
        const only = mode === 'relay' ? ['--relay-only'] : [];
        const base = tool === 'base';
        const bin = base ? join(BASE_DIR!, 'bin', 'parley.mjs') : PARLEY;
        const relayUrl = base ? baseRelay!.url : parleyRelay.url;
        received = join(out, 'payload.bin');
        let s: Usage & { stdout: string };
        [receiver, s] = await Promise.all([
          parley(b, base ? home.baseB : home.b, [...only, '--json', 'receive', '--once', '--dir', out], bin, relayUrl),
          parley(a, base ? home.baseA : home.a, [...only, '--json', 'send', 'Bob', src], bin, relayUrl),
        ]);
        sender = s;
        routes = routesOf(s.stdout);
      }
      const relayAfter = cpuSeconds(relayPid);
      const relayCpuS = relayAfter[0] + relayAfter[1] - relayBefore[0] - relayBefore[1];
      const relaySysS = relayAfter[1] - relayBefore[1];
      const hashOk = existsSync(received) && (await sha256File(received)) === srcHash;
      rmSync(out, { recursive: true, force: true });
      const run: Run = {
        tool,
        mode,
        round,
        mbps: SIZE / 1e6 / sender.wallS,
        sender,
        receiver,
        relayCpuS,
        relaySysS,
        hashOk,
        ...(routes ? { routes } : {}),
      };
      log(
        `${mode} round ${round} ${tool.padEnd(8)} ${fmt(run.mbps).padStart(6)} MB/s  CPU s/GB send ${fmt(sender.cpuS / (SIZE / 1e9))} recv ${fmt(receiver.cpuS / (SIZE / 1e9))} relay ${fmt(relayCpuS / (SIZE / 1e9))} (sys ${fmt(relaySysS / (SIZE / 1e9))})  RSS ${fmt(sender.rssMB, 0)}/${fmt(receiver.rssMB, 0)} MB  faults/GB ${fmt(sender.minorFaults / 1000 / (SIZE / 1e9), 0)}k/${fmt(receiver.minorFaults / 1000 / (SIZE / 1e9), 0)}k  wall s ${fmt(sender.wallS, 2)}/${fmt(receiver.wallS, 2)}  hash ${hashOk ? 'ok' : 'MISMATCH'}${routes ? `  route ${routes.join('→')}` : ''}`,
      );
      return run;
    };

    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of MODES) {
        await block(mode === 'relay');
        try {
          // Alternate which tool goes first, so a load change hits both alike.
          const order: Tool[] = round % 2 ? ['wormhole', 'parley', 'base'] : ['base', 'parley', 'wormhole'];
          for (const tool of order) if (TOOLS.includes(tool)) runs.push(await runOnce(tool, mode, round));
        } finally {
          await block(false);
        }
      }
    }

    const best = (tool: Tool, mode: Mode) =>
      runs.filter((x) => x.tool === tool && x.mode === mode).sort((x, y) => y.mbps - x.mbps)[0];
    const gb = SIZE / 1e9;
    const cpuPerGB = (x: Run | undefined) => (x ? (x.sender.cpuS + x.receiver.cpuS) / gb : NaN);
    const rows: string[][] = [
      ['path', 'tool', 'MB/s', 'CPU s/GB send+recv', 'relay CPU s/GB', 'peak RSS MB send/recv', 'hash'],
    ];
    for (const mode of MODES) {
      for (const tool of ['wormhole', 'parley', 'base'] as Tool[]) {
        const x = best(tool, mode);
        if (!x) continue;
        rows.push([
          mode,
          tool,
          fmt(x.mbps),
          `${fmt(x.sender.cpuS / gb)}+${fmt(x.receiver.cpuS / gb)}`,
          fmt(x.relayCpuS / gb),
          `${fmt(x.sender.rssMB, 0)}/${fmt(x.receiver.rssMB, 0)}`,
          x.hashOk ? 'ok' : 'MISMATCH',
        ]);
      }
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
    console.log('');
    for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
    const meanCpu = (tool: Tool, mode: Mode, side: 'sender' | 'receiver'): number => {
      const xs = runs.filter((x) => x.tool === tool && x.mode === mode);
      return Number(fmt(xs.reduce((sum, x) => sum + x[side].cpuS, 0) / xs.length / gb, 2));
    };
    const ratio = (p: Run | undefined, w: Run | undefined) => (p && w ? Number((p.mbps / w.mbps).toFixed(3)) : null);
    const pd = best('parley', 'direct');
    const wd = best('wormhole', 'direct');
    console.log(
      JSON.stringify({
        directVsWormhole: ratio(pd, wd),
        relayVsWormhole: ratio(best('parley', 'relay'), best('wormhole', 'relay')),
        cpuPerGBVsWormhole: pd && wd ? Number((cpuPerGB(pd) / cpuPerGB(wd)).toFixed(3)) : null,
        parleyDirectMBps: pd ? Number(fmt(pd.mbps)) : null,
        wormholeDirectMBps: wd ? Number(fmt(wd.mbps)) : null,
        parleyRelayMBps: best('parley', 'relay') ? Number(fmt(best('parley', 'relay')!.mbps)) : null,
        wormholeRelayMBps: best('wormhole', 'relay') ? Number(fmt(best('wormhole', 'relay')!.mbps)) : null,
        parleyCpuPerGB: Number(fmt(cpuPerGB(pd), 2)),
        wormholeCpuPerGB: Number(fmt(cpuPerGB(wd), 2)),
        peakRssMB: Object.fromEntries(
          runs.map((x) => [`${x.tool}-${x.mode}`, Math.round(Math.max(x.sender.rssMB, x.receiver.rssMB))]),
        ),
        allHashesOk: runs.every((x) => x.hashOk),
        parleyDirectRoutes: pd?.routes ?? null,
        // Peak RSS of Parley's receiver minus that of a 1 MiB receive, per path (target ≤ 64 MB).
        receiverGrowthMB: Object.fromEntries(
          MODES.map((m) => {
            const x = best('parley', m);
            return [m, x ? Math.round(x.receiver.rssMB - baseRecv.rssMB) : null];
          }),
        ),
        ...(BASE_DIR
          ? {
              vsBase: Object.fromEntries(
                MODES.map((m) => {
                  const [x, y] = [best('parley', m), best('base', m)];
                  return [
                    m,
                    x && y
                      ? {
                          mbps: ratio(x, y),
                          // CPU: the mean over all rounds (the best-MB/s round alone is noisier), [this, base].
                          sendCpuPerGB: [meanCpu('parley', m, 'sender'), meanCpu('base', m, 'sender')],
                          recvCpuPerGB: [meanCpu('parley', m, 'receiver'), meanCpu('base', m, 'receiver')],
                        }
                      : null,
                  ];
                }),
              ),
            }
          : {}),
        sizeMiB: SIZE / MiB,
        rounds: ROUNDS,
      }),
    );
  } finally {
    await tb.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
