// Log lines for people: under human output, stderr gets "parley: warning: relay error (code=...)"
// rather than pino's JSON, and values pass through safeText (a relay's or peer's text must not drive
// the terminal). Under --json the JSON logger stays, for programs.
import type { Logger } from '../../core/src/platform/types.js';
import { safeText } from './terminal.js';

const RANK = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
export type HumanLogLevel = keyof typeof RANK;

const LABEL: Record<'debug' | 'info' | 'warn' | 'error', string> = {
  debug: 'debug',
  info: 'info',
  warn: 'warning',
  error: 'error',
};

function field(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A Logger writing one readable line per entry at or above `level`. */
export function createHumanLogger(
  level: HumanLogLevel,
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const at = (name: keyof typeof LABEL) => (obj: Record<string, unknown>, msg?: string) => {
    if (RANK[name] < RANK[level]) return;
    const fields = Object.entries(obj ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${field(v)}`)
      .join(', ');
    const text = [msg ?? '', fields ? `(${fields})` : ''].filter(Boolean).join(' ');
    write(`parley: ${LABEL[name]}: ${safeText(text)}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
