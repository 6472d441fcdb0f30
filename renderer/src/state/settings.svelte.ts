// Settings as reactive state, persisted in IndexedDB ("ui" store). Loaded values are validated;
// anything unreadable falls back to defaults field by field rather than blocking the app. Read through
// getters; changed only through save() and the one-field setters, so every change is persisted.
import type { KeyValueStore } from '../../../core/src/platform/types.js';
import { i18n } from '../i18n/index.svelte.js';
import { SettingsSchema, type Settings } from './settings-schema.js';

const KEY = 'settings';

export class SettingsState {
  #values = $state<Settings>() as Settings;
  readonly #store: KeyValueStore;
  readonly #defaults: Settings;

  constructor(store: KeyValueStore, defaults: Settings) {
    this.#store = store;
    this.#defaults = defaults;
    this.#values = clone(defaults);
  }

  get relays(): readonly string[] {
    return this.#values.relays;
  }
  get iceServers(): Settings['iceServers'] {
    return this.#values.iceServers;
  }
  get language(): Settings['language'] {
    return this.#values.language;
  }
  get notifications(): boolean {
    return this.#values.notifications;
  }
  get autoSaveReceived(): boolean {
    return this.#values.autoSaveReceived;
  }
  get relayOnly(): boolean {
    return this.#values.relayOnly;
  }

  async load(): Promise<void> {
    const raw = await this.#store.get<unknown>(KEY);
    if (raw !== undefined) {
      const merged = { ...this.#defaults, ...(typeof raw === 'object' && raw !== null ? raw : {}) };
      const parsed = SettingsSchema.safeParse(merged);
      if (parsed.success) this.#values = clone(parsed.data);
      else {
        // Keep each field that is valid on its own.
        for (const key of Object.keys(this.#defaults) as Array<keyof Settings>) {
          const one = SettingsSchema.shape[key].safeParse((merged as Record<string, unknown>)[key]);
          if (one.success) this.#values = { ...this.snapshot(), [key]: one.data };
        }
      }
    }
    i18n.language = this.language;
  }

  snapshot(): Settings {
    return clone(this.#values);
  }

  async save(next: Settings): Promise<void> {
    const parsed = SettingsSchema.parse(next);
    await this.#store.set(KEY, parsed);
    this.#values = clone(parsed);
    i18n.language = this.language;
  }

  /** Language applies and is kept at once (it is not part of a form's Save). */
  async setLanguage(language: Settings['language']): Promise<void> {
    await this.save({ ...this.snapshot(), language });
  }

  /** A preference switch: applied and kept at once, like the language. */
  async setPreference(key: 'notifications' | 'autoSaveReceived', on: boolean): Promise<void> {
    await this.save({ ...this.snapshot(), [key]: on });
  }
}

function clone(s: Settings): Settings {
  return { ...s, relays: [...s.relays], iceServers: s.iceServers.map((x) => ({ ...x, urls: [...x.urls] })) };
}
