// Options every command accepts, read from commander and the environment.
import type { Command } from 'commander';
import { checkRelayUrl } from '../../core/src/identity/index.js';
import { UsageError } from './errors.js';
import { defaultHome } from './home.js';
import { isLogLevel, type LogLevel } from '../../platform/node/src/logger.js';
import { resolve } from 'node:path';

export interface Globals {
  home: string;
  json: boolean;
  /** Relay URLs from --relay (validated, normalised); empty when not given. */
  relays: string[];
  logLevel: LogLevel;
  /** Never attempt direct WebRTC connections. */
  relayOnly: boolean;
}

export function globalsOf(cmd: Command, env: NodeJS.ProcessEnv = process.env): Globals {
  const o = cmd.optsWithGlobals<{
    home?: string;
    json?: boolean;
    relay?: string[];
    logLevel?: string;
    relayOnly?: boolean;
  }>();
  const level = o.logLevel ?? env['PARLEY_LOG'] ?? 'warn';
  if (!isLogLevel(level))
    throw new UsageError(`unknown log level "${level}" (fatal, error, warn, info, debug, trace, silent)`);
  const relays: string[] = [];
  for (const url of o.relay ?? []) {
    const r = checkRelayUrl(url);
    if (!r.ok) throw new UsageError(`--relay: ${r.error}`);
    if (!relays.includes(r.value)) relays.push(r.value);
  }
  return {
    home: o.home ? resolve(o.home) : defaultHome(env),
    json: Boolean(o.json),
    relays,
    logLevel: level,
    relayOnly: Boolean(o.relayOnly),
  };
}
