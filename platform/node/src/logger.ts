// pino to stderr so stdout carries only command output (and JSON lines under --json).
import { pino } from 'pino';
import type { Logger } from '../../../core/src/platform/types.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(level: LogLevel): Logger {
  // Synchronous destination: log lines written just before process.exit are not lost.
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}
