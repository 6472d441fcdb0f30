// Shared plumbing for command actions: globals, logger, output, and the home opened for the action's duration.
import type { Command } from 'commander';
import type { Logger } from '../../core/src/platform/types.js';
import { globalsOf, type Globals } from './globals.js';
import { Home } from './home.js';
import { createOutput, type Output } from './output.js';
import { createHumanLogger } from './human-log.js';
import { createLogger } from '../../platform/node/src/logger.js';

export interface ActionContext {
  globals: Globals;
  out: Output;
  logger: Logger;
  home: Home;
}

/** Opens the home (taking its lock), runs fn, and always closes the home again. */
export async function withHome<T>(cmd: Command, fn: (ctx: ActionContext) => Promise<T>): Promise<T> {
  const globals = globalsOf(cmd);
  // People get readable log lines; programs reading --json output get JSON log lines on stderr.
  const logger = globals.json ? createLogger(globals.logLevel) : createHumanLogger(globals.logLevel);
  const out = createOutput(globals.json);
  const home = await Home.open(globals.home, logger);
  try {
    return await fn({ globals, out, logger, home });
  } finally {
    await home.close();
  }
}
