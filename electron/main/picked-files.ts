// Files the user picked in main's dialog to send (userData/picked-files.json), kept across reloads and
// restarts: the renderer's transfer engine names them by token (`main:<token>`) in offers it persists
// itself, so an unfinished send resumes after the app restarted instead of failing with "send it again".
// Only paths main's own dialog gave are ever written here (BulkSources.register). Validated with zod on
// load; an unreadable file is set aside (never silently overwritten) and the list starts empty; entries
// older than MAX_AGE_MS are dropped; writes are atomic and serialized.
import { readFile, rename } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file.js';

export const PICKED_FILES_FILE = 'picked-files.json';
/** A pick older than this is forgotten: a send left unfinished for two weeks is sent again by hand. */
export const PICKED_MAX_AGE_MS = 14 * 24 * 60 * 60 * 1000;
/** At most this many picks are kept (the oldest go first). */
export const MAX_PICKED_FILES = 4096;

const pickedSchema = z.strictObject({
  token: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  path: z
    .string()
    .min(1)
    .max(4096)
    .refine((p) => isAbsolute(p) && !p.includes('\0'), { message: 'not an absolute path' }),
  pickedAt: z.int().min(0),
});

const fileSchema = z.strictObject({
  version: z.literal(1),
  files: z.array(pickedSchema).max(MAX_PICKED_FILES),
});

export type PickedFile = z.infer<typeof pickedSchema>;

export class PickedFilesStore {
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  get path(): string {
    return join(this.dir, PICKED_FILES_FILE);
  }

  /** The picks still fresh enough; `problem` when the file was unusable and moved to `movedTo`. */
  async load(): Promise<{ files: PickedFile[]; problem?: string; movedTo?: string }> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { files: [] };
      throw e;
    }
    let problem: string | undefined;
    let files: PickedFile[] = [];
    try {
      const parsed = fileSchema.safeParse(JSON.parse(text));
      if (parsed.success) files = parsed.data.files;
      else problem = z.prettifyError(parsed.error);
    } catch (e) {
      problem = `not JSON: ${(e as Error).message}`;
    }
    if (problem !== undefined) {
      const movedTo = join(this.dir, `picked-files.invalid-${this.now()}.json`);
      await rename(this.path, movedTo);
      return { files: [], problem, movedTo };
    }
    const oldest = this.now() - PICKED_MAX_AGE_MS;
    return { files: files.filter((f) => f.pickedAt >= oldest) };
  }

  /** Replaces the list on disk; saves are serialized, each one whole. */
  save(files: readonly PickedFile[]): Promise<void> {
    const text = `${JSON.stringify({ version: 1, files: files.slice(-MAX_PICKED_FILES) })}\n`;
    const write = this.writing.then(() => writeFileAtomic(this.path, text));
    this.writing = write.catch(() => {});
    return write;
  }

  /** Resolves once every save started so far has reached the disk (or failed). */
  flush(): Promise<void> {
    return this.writing;
  }
}
