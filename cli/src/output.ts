// Where command output goes. stdout carries results only (text, or one JSON value per line under
// --json); diagnostics and logs go to stderr, so `parley ... --json | jq` always sees clean JSON.
import { safeOutput } from './terminal.js';

export interface Output {
  readonly json: boolean;
  /** True when stdout is a terminal: progress bars, QR codes and colours only then. */
  readonly tty: boolean;
  /** A line of human output (suppressed under --json). */
  line(text: string): void;
  /** A JSON value on its own line (only under --json). */
  record(value: unknown): void;
  /** Human text under normal output, JSON under --json. */
  result(text: string, value: unknown): void;
  /** A note for the user on stderr, in both modes. */
  note(text: string): void;
  /** Raw write to stdout (progress redraws). */
  raw(text: string): void;
}

export function createOutput(
  json: boolean,
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
): Output {
  return {
    json,
    tty: Boolean(stdout.isTTY) && !json,
    line(text) {
      if (!json) stdout.write(safeOutput(text) + '\n');
    },
    record(value) {
      if (json) stdout.write(JSON.stringify(value) + '\n');
    },
    result(text, value) {
      if (json) stdout.write(JSON.stringify(value) + '\n');
      else stdout.write(safeOutput(text) + '\n');
    },
    note(text) {
      stderr.write(safeOutput(text) + '\n');
    },
    raw(text) {
      stdout.write(text);
    },
  };
}
