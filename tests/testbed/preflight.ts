// Fails fast, saying exactly what to install or do, when this machine cannot run namespace tests.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { run } from './exec.js';
import { CHROMIUM } from './chromium.js';

export interface PreflightOptions {
  /** Also require /usr/bin/chromium (browser tests). */
  chromium?: boolean;
}

export async function assertTestbedAvailable(opts: PreflightOptions = {}): Promise<void> {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push('network namespaces need Linux');
  if (process.getuid?.() !== 0)
    problems.push(
      'run the tests as root (e.g. `sudo npx vitest run --project integration`): namespaces and iptables need CAP_NET_ADMIN',
    );
  const ip = await run('ip', ['netns', 'list'], { allowFailure: true }).catch(() => null);
  if (!ip) problems.push('`ip` is missing: apt-get install -y iproute2');
  else if (ip.code !== 0)
    problems.push(`\`ip netns list\` fails (${ip.stderr.trim()}): needs root and a kernel with network namespaces`);
  const ipt = await run('iptables', ['-V'], { allowFailure: true }).catch(() => null);
  const legacy = await run('iptables-legacy', ['-V'], { allowFailure: true }).catch(() => null);
  if ((!ipt || ipt.code !== 0) && (!legacy || legacy.code !== 0))
    problems.push('`iptables` is missing: apt-get install -y iptables');
  if (opts.chromium && !existsSync(CHROMIUM)) problems.push(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const require = createRequire(import.meta.url);
  for (const pkg of ['tsx', '@roamhq/wrtc', 'simple-peer', 'playwright-core']) {
    try {
      require.resolve(pkg);
    } catch {
      problems.push(`node package ${pkg} is missing: npm ci`);
    }
  }
  if (problems.length) {
    throw new Error(
      `the network-namespace test bed cannot run here:\n${problems.map((p) => `  - ${p}`).join('\n')}\n(apt-get install -y iproute2 iptables chromium; run as root)`,
    );
  }
}
