// Shared plumbing for command actions: globals, logger, output, and the home opened for the action's duration.
import type { Command } from 'commander';
import type { Logger } from '../../core/src/platform/types.js';
import { globalsOf, type Globals } from './globals.js';
import { Home } from './home.js';
import { createOutput, type Output } from './output.js';
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
  const logger = createLogger(globals.logLevel);
  const out = createOutput(globals.json);
  const home = await Home.open(globals.home, logger);
  try {
    return await fn({ globals, out, logger, home });
  } finally {
    await home.close();
  }
}
