// The data directory of one parley identity (--home): lock, key-value store, identity key file.
import { mkdir, stat, chmod } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from '../../core/src/platform/types.js';
import { PartitionedChatStore } from '../../platform/node/src/chat-partitions.js';
import { acquireHomeLock, HomeLockedError, type HomeLock } from '../../platform/node/src/home-lock.js';
import { FileIdentityKeyStore } from '../../platform/node/src/identity-file.js';
import { CliError } from './errors.js';

export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  return env['PARLEY_HOME'] ? resolve(env['PARLEY_HOME']) : join(homedir(), '.parley');
}

export class Home {
  private closed = false;
  private readonly onExit = (): void => this.lock.releaseSync();

  private constructor(
    readonly dir: string,
    readonly lock: HomeLock,
    readonly store: PartitionedChatStore,
    readonly identityStore: FileIdentityKeyStore,
    readonly logger: Logger,
  ) {
    // Covers process.exit() from anywhere; a SIGKILL leaves a stale lock that the next run reclaims.
    process.once('exit', this.onExit);
  }

  static async open(dir: string, logger: Logger): Promise<Home> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const st = await stat(dir);
      if (!st.isDirectory()) throw new CliError(`${dir} is not a directory`);
      if ((st.mode & 0o077) !== 0) await chmod(dir, 0o700).catch(() => undefined);
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`cannot use ${dir} as the parley home: ${(err as Error).message}`);
    }
    let lock: HomeLock;
    try {
      lock = await acquireHomeLock(dir);
    } catch (err) {
      if (err instanceof HomeLockedError) throw new CliError(err.message);
      throw err;
    }
    try {
      const store = await PartitionedChatStore.open(dir, logger);
      return new Home(dir, lock, store, new FileIdentityKeyStore(dir, logger), logger);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.store.close();
    } finally {
      await this.lock.release();
      process.off('exit', this.onExit);
    }
  }
}
