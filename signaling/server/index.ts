// The Parley relay, embeddable (Electron main, tests) and behind signaling/server/cli.ts as a command.
export { startRelay, type RelayStats, type RunningRelay } from './relay.js';
export { DEFAULT_LIMITS, type RelayLimits, type RelayOptions, type RelayTlsOptions } from './options.js';
export { createDefaultLogger, silentLogger, type RelayLogger } from './logger.js';
export { CONTENT_SECURITY_POLICY } from './http-static.js';
