// Settings as reactive state, persisted in IndexedDB ("ui" store). Loaded values are validated;
// anything unreadable falls back to defaults field by field rather than blocking the app.
import type { KeyValueStore } from '../../../core/src/platform/types.js';
import { i18n } from '../i18n/index.svelte.js';
import { SettingsSchema, type Settings } from './settings-schema.js';

const KEY = 'settings';

export class SettingsState {
  relays = $state<string[]>([]);
  iceServers = $state<Settings['iceServers']>([]);
  language = $state<Settings['language']>('en');
  notifications = $state(true);

  constructor(
    private readonly store: KeyValueStore,
    private readonly defaults: Settings,
  ) {
    this.apply(defaults);
  }

  async load(): Promise<void> {
    const raw = await this.store.get<unknown>(KEY);
    if (raw !== undefined) {
      const merged = { ...this.defaults, ...(typeof raw === 'object' && raw !== null ? raw : {}) };
      const parsed = SettingsSchema.safeParse(merged);
      if (parsed.success) this.apply(parsed.data);
      else {
        // Keep each field that is valid on its own.
        for (const key of Object.keys(this.defaults) as Array<keyof Settings>) {
          const one = SettingsSchema.shape[key].safeParse((merged as Record<string, unknown>)[key]);
          if (one.success) this.apply({ ...this.snapshot(), [key]: one.data });
        }
      }
    }
    i18n.language = this.language;
  }

  snapshot(): Settings {
    return {
      relays: [...this.relays],
      iceServers: this.iceServers.map((s) => ({ ...s, urls: [...s.urls] })),
      language: this.language,
      notifications: this.notifications,
    };
  }

  private apply(s: Settings): void {
    this.relays = [...s.relays];
    this.iceServers = s.iceServers.map((x) => ({ ...x, urls: [...x.urls] }));
    this.language = s.language;
    this.notifications = s.notifications;
  }

  async save(next: Settings): Promise<void> {
    const parsed = SettingsSchema.parse(next);
    await this.store.set(KEY, parsed);
    this.apply(parsed);
    i18n.language = this.language;
  }

  async setLanguage(language: Settings['language']): Promise<void> {
    await this.save({ ...this.snapshot(), language });
  }
}
