// Per-host packet filter. The whole filter table of the host's namespace is rewritten atomically with
// iptables-restore on every change, from a small state (block + cut): no rule bookkeeping, no ordering bugs.
// Loopback always stays open, so processes inside a host can still talk to themselves.
import { run } from './exec.js';

export type Flavour = { name: 'nft' | 'legacy'; iptables: string; restore: string };

const FLAVOURS: Flavour[] = [
  { name: 'nft', iptables: 'iptables', restore: 'iptables-restore' },
  { name: 'legacy', iptables: 'iptables-legacy', restore: 'iptables-legacy-restore' },
];

let detected: Promise<Flavour> | null = null;

/** The first iptables flavour that works inside a network namespace (probed once per process). */
export function detectFlavour(ns: string): Promise<Flavour> {
  detected ??= (async () => {
    const errors: string[] = [];
    for (const f of FLAVOURS) {
      const res = await run('ip', ['netns', 'exec', ns, f.iptables, '-w', '-S'], { allowFailure: true }).catch(
        (err: unknown) => ({ code: -1, stdout: '', stderr: String(err) }),
      );
      if (res.code === 0) {
        // `iptables` may itself be the legacy backend on some systems; report what it really is.
        const v = await run(f.iptables, ['-V'], { allowFailure: true });
        return { ...f, name: /nf_tables/.test(v.stdout) ? 'nft' : 'legacy' };
      }
      errors.push(`${f.iptables}: ${res.stderr.trim()}`);
    }
    detected = null;
    throw new Error(
      `no iptables flavour works inside a network namespace (apt-get install iptables):\n${errors.join('\n')}`,
    );
  })();
  return detected;
}

export type Block =
  | { kind: 'none' }
  | { kind: 'udp' }
  | { kind: 'allExcept'; tcpPorts: number[]; udpPorts: number[]; host: string | null }
  /** TCP dropped both ways except these ports (as source or destination); UDP untouched. */
  | { kind: 'tcpExcept'; tcpPorts: number[] };

/** `null`: link up. `all`: every packet dropped. Otherwise only traffic to/from these addresses. */
export type Cut = null | 'all' | string[];

export interface FilterState {
  block: Block;
  cut: Cut;
}

export function renderRules(state: FilterState): string {
  const r: string[] = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
  r.push('-A INPUT -i lo -j ACCEPT', '-A OUTPUT -o lo -j ACCEPT');
  if (state.cut === 'all') {
    r.push('-A INPUT -j DROP', '-A OUTPUT -j DROP');
  } else if (state.cut) {
    for (const addr of state.cut) r.push(`-A INPUT -s ${addr} -j DROP`, `-A OUTPUT -d ${addr} -j DROP`);
  }
  const b = state.block;
  if (b.kind === 'udp') {
    r.push('-A INPUT -p udp -j DROP', '-A OUTPUT -p udp -j DROP');
  } else if (b.kind === 'allExcept') {
    const dst = b.host ? ` -d ${b.host}` : '';
    const src = b.host ? ` -s ${b.host}` : '';
    for (const [proto, ports] of [
      ['tcp', b.tcpPorts],
      ['udp', b.udpPorts],
    ] as const) {
      for (const p of ports) {
        // Outgoing to the allowed port and its replies only: this host cannot serve on that port.
        r.push(
          `-A OUTPUT -p ${proto}${dst} --dport ${p} -j ACCEPT`,
          `-A INPUT -p ${proto}${src} --sport ${p} -j ACCEPT`,
        );
      }
    }
    r.push('-A INPUT -j DROP', '-A OUTPUT -j DROP');
  } else if (b.kind === 'tcpExcept') {
    for (const p of b.tcpPorts) {
      r.push(`-A OUTPUT -p tcp --dport ${p} -j ACCEPT`, `-A INPUT -p tcp --sport ${p} -j ACCEPT`);
      r.push(`-A OUTPUT -p tcp --sport ${p} -j ACCEPT`, `-A INPUT -p tcp --dport ${p} -j ACCEPT`);
    }
    r.push('-A INPUT -p tcp -j DROP', '-A OUTPUT -p tcp -j DROP');
  }
  r.push('COMMIT', '');
  return r.join('\n');
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function assertIpv4(addr: string): string {
  if (!IPV4.test(addr)) throw new Error(`not an IPv4 address: ${JSON.stringify(addr)}`);
  return addr;
}

export function assertPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`not a port: ${port}`);
  return port;
}

export async function applyRules(ns: string, state: FilterState): Promise<void> {
  const flavour = await detectFlavour(ns);
  const rules = renderRules(state);
  // iptables-restore reads the table from stdin: one process, one atomic swap.
  const res = await run('ip', ['netns', 'exec', ns, flavour.restore, '-w'], { input: rules, allowFailure: true });
  if (res.code !== 0)
    throw new Error(`${flavour.restore} in ${ns} failed (${res.code}): ${res.stderr.trim()}\n${rules}`);
}
