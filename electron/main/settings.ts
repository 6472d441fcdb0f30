// The shell's own small settings file (userData/settings.json): whether the embedded relay is open to the
// LAN, its preferred port (stable, so invites that name it keep working across restarts) and the window
// bounds. Validated with zod on load; a corrupt file is kept aside (never silently overwritten) and the
// defaults are used. Writes are atomic (temp file + rename).
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file.js';

export const SETTINGS_FILE = 'settings.json';
/** Default port of the embedded relay; an occupied port falls back to an ephemeral one. */
export const DEFAULT_RELAY_PORT = 47913;

const boundsSchema = z.strictObject({
  x: z.int().min(-100_000).max(100_000).optional(),
  y: z.int().min(-100_000).max(100_000).optional(),
  width: z.int().min(200).max(100_000),
  height: z.int().min(200).max(100_000),
  maximized: z.boolean().optional(),
});

export const settingsSchema = z.strictObject({
  version: z.literal(1),
  lanRelay: z.boolean(),
  relayPort: z.int().min(0).max(65_535),
  window: boundsSchema.optional(),
});

export type Settings = z.infer<typeof settingsSchema>;
export type SavedBounds = z.infer<typeof boundsSchema>;

export function defaultSettings(): Settings {
  return { version: 1, lanRelay: false, relayPort: DEFAULT_RELAY_PORT };
}

export interface LoadResult {
  settings: Settings;
  /** Set when the file existed but was unusable; it was moved to `movedTo`. */
  problem?: string;
  movedTo?: string;
}

export function parseSettings(text: string): { ok: true; settings: Settings } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  const r = settingsSchema.safeParse(json);
  if (!r.success) return { ok: false, error: z.prettifyError(r.error) };
  return { ok: true, settings: r.data };
}

export class SettingsStore {
  private current: Settings = defaultSettings();
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  get path(): string {
    return join(this.dir, SETTINGS_FILE);
  }

  get value(): Settings {
    return structuredClone(this.current);
  }

  async load(): Promise<LoadResult> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.current = defaultSettings();
        return { settings: this.value };
      }
      throw e;
    }
    const parsed = parseSettings(text);
    if (parsed.ok) {
      this.current = parsed.settings;
      return { settings: this.value };
    }
    // Keep the user's file for inspection instead of overwriting it with defaults on the next save.
    const movedTo = join(this.dir, `settings.invalid-${this.now()}.json`);
    await rename(this.path, movedTo);
    this.current = defaultSettings();
    return { settings: this.value, problem: parsed.error, movedTo };
  }

  /** Applies a change, validates the result, and persists it. Saves are serialized. */
  async update(change: (draft: Settings) => void): Promise<Settings> {
    const draft = structuredClone(this.current);
    change(draft);
    const next = settingsSchema.parse(draft);
    this.current = next;
    const text = `${JSON.stringify(next, null, 2)}\n`;
    const write = this.writing.then(() => writeFileAtomic(this.path, text));
    this.writing = write.catch(() => {});
    await write;
    return structuredClone(next);
  }

  /** Resolves once every save started so far has reached the disk (or failed). */
  flush(): Promise<void> {
    return this.writing;
  }
}
