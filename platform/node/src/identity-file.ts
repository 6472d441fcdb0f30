// IdentityKeyStore for Node: the identity (private key as pkcs8) in HOME/identity.json, mode 0600.
// Node has no OS key store reachable without native modules, so file permissions are the protection,
// as with ssh keys. Written atomically: temp file (0600) + fsync + rename + directory fsync.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { IdentityKeyStore, StoredIdentity } from '../../../core/src/identity/index.js';
import type { Logger } from '../../../core/src/platform/types.js';
import { silentLogger } from '../../../core/src/platform/types.js';

export const IDENTITY_FILE = 'identity.json';

export class FileIdentityKeyStore implements IdentityKeyStore {
  readonly path: string;

  constructor(
    private readonly dir: string,
    private readonly logger: Logger = silentLogger,
  ) {
    this.path = join(dir, IDENTITY_FILE);
  }

  async load(): Promise<StoredIdentity | undefined> {
    let text: string;
    try {
      const st = await fs.stat(this.path);
      if ((st.mode & 0o077) !== 0) {
        // Someone loosened the permissions (copy, umask, backup restore): tighten rather than refuse.
        this.logger.warn(
          { path: this.path, mode: (st.mode & 0o777).toString(8) },
          'identity key file was readable by others; set to 0600',
        );
        await fs.chmod(this.path, 0o600);
      }
      text = await fs.readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      // Shape is validated by core (loadOrCreateIdentity); here we only need JSON.
      return JSON.parse(text) as StoredIdentity;
    } catch {
      throw new Error(`${this.path} is not valid JSON; the identity cannot be read (the file was left as is)`);
    }
  }

  async save(identity: StoredIdentity): Promise<void> {
    if (!('pkcs8' in identity.privateKey) || typeof identity.privateKey.pkcs8 !== 'string') {
      throw new Error('the Node identity store keeps keys as pkcs8: create the identity with extractable: true');
    }
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp-${process.pid}`;
    const h = await fs.open(tmp, 'w', 0o600);
    try {
      await h.writeFile(JSON.stringify(identity, null, 2) + '\n');
      await h.sync();
    } finally {
      await h.close();
    }
    await fs.rename(tmp, this.path);
    const d = await fs.open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }
}
