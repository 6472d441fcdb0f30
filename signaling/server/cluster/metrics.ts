// Prometheus text exposition (format 0.0.4) of a node's figures. Names follow Prometheus conventions:
// *_total for counters, base units (bytes, seconds).

export interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly value: number;
}

export function prometheusText(node: string, metrics: readonly Metric[]): string {
  const label = `{node="${node.replace(/["\\\n]/g, '_')}"}`;
  let out = '';
  for (const m of metrics) {
    out += `# HELP ${m.name} ${m.help}\n# TYPE ${m.name} ${m.type}\n${m.name}${label} ${Number.isFinite(m.value) ? m.value : 0}\n`;
  }
  return out;
}
