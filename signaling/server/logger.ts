// Synchronous stderr writes: the relay logs little (no per-message lines at info), and nothing is lost on exit.
// The relay logs structured events only: connection serials, identity ids, codes and sizes — never payloads.
import { pino } from 'pino';

type LogFn = (obj: object, msg?: string) => void;

/** The subset of pino the relay uses, so any pino-compatible logger can be passed in. */
export interface RelayLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export function createDefaultLogger(level = 'info'): RelayLogger {
  return pino({ name: 'parley-relay', level }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: RelayLogger = { debug() {}, info() {}, warn() {}, error() {} };
