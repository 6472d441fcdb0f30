// Settings: validation of what the user types and of what storage gives back, and the state class
// (real types, runes compiled by the Svelte plugin).
import { describe, expect, it } from 'vitest';
import type { KeyValueStore } from '../../../../core/src/platform/types.js';
import { i18n } from '../../../../renderer/src/i18n/index.svelte.js';
import { SettingsSchema, validateSettings, type Settings } from '../../../../renderer/src/state/settings-schema.js';
import { SettingsState } from '../../../../renderer/src/state/settings.svelte.js';

const base: Settings = {
  relays: ['ws://10.99.0.3:8080/ws'],
  iceServers: [],
  language: 'en',
  notifications: true,
  autoSaveReceived: true,
  relayOnly: false,
};

describe('settings validation', () => {
  it('accepts a valid relay and TURN server', () => {
    expect(
      validateSettings({
        ...base,
        iceServers: [{ urls: ['turn:10.99.0.3:3478?transport=udp'], username: 'u', credential: 'p' }],
      }),
    ).toEqual([]);
    expect(validateSettings({ ...base, iceServers: [{ urls: ['stun:10.99.0.3:3478'] }] })).toEqual([]);
  });

  it('flags bad relays, a missing relay, bad ICE URLs and TURN without credentials', () => {
    expect(validateSettings({ ...base, relays: ['ftp://x'] })).toEqual([
      { field: 'relay', index: 0, code: 'relay-invalid' },
    ]);
    expect(validateSettings({ ...base, relays: ['wss://user@evil.example/ws'] })[0]?.code).toBe('relay-invalid');
    expect(validateSettings({ ...base, relays: [] })).toEqual([{ field: 'relay', code: 'relay-required' }]);
    expect(validateSettings({ ...base, iceServers: [{ urls: ['https://turn.example'] }] })).toEqual([
      { field: 'ice', index: 0, code: 'ice-url' },
    ]);
    expect(validateSettings({ ...base, iceServers: [{ urls: ['turns:turn.example:5349'], username: 'u' }] })).toEqual([
      { field: 'ice', index: 0, code: 'ice-credential' },
    ]);
  });

  it('refuses stored settings of the wrong shape', () => {
    expect(SettingsSchema.safeParse(base).success).toBe(true);
    expect(SettingsSchema.safeParse({ ...base, language: 'fr' }).success).toBe(false);
    expect(SettingsSchema.safeParse({ ...base, relays: 'ws://x' }).success).toBe(false);
    expect(SettingsSchema.safeParse({ ...base, iceServers: [{ urls: [] }] }).success).toBe(false);
  });
});

/** A KeyValueStore in memory, as IndexedDB would hold it (values round-trip through structured clone). */
class MemoryStore implements KeyValueStore {
  readonly data = new Map<string, unknown>();
  async get<T>(key: string): Promise<T | undefined> {
    return structuredClone(this.data.get(key)) as T | undefined;
  }
  async set(key: string, value: unknown): Promise<void> {
    this.data.set(key, structuredClone(value));
  }
  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }
  async keys(prefix: string): Promise<string[]> {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

describe('SettingsState', () => {
  it('a language picked is applied and kept at once, without a form Save (issue 14.5)', async () => {
    const store = new MemoryStore();
    const settings = new SettingsState(store, base);
    await settings.setLanguage('zh');
    expect(i18n.language).toBe('zh');
    const again = new SettingsState(store, base);
    await again.load();
    expect(again.language).toBe('zh');
    expect(again.relays).toEqual(base.relays);
    i18n.language = 'en';
  });

  it('settings saved before a field existed load with its default', async () => {
    const store = new MemoryStore();
    await store.set('settings', {
      relays: ['ws://10.99.0.3:8080/ws'],
      iceServers: [],
      language: 'en',
      notifications: false,
    });
    const settings = new SettingsState(store, base);
    await settings.load();
    expect(settings.notifications).toBe(false);
    expect(settings.autoSaveReceived).toBe(true);
    expect(settings.relayOnly).toBe(false);
  });

  it('keeps each valid field of a damaged record, and snapshots are copies', async () => {
    const store = new MemoryStore();
    await store.set('settings', { ...base, language: 'fr', notifications: false, autoSaveReceived: false });
    const settings = new SettingsState(store, base);
    await settings.load();
    expect(settings.language).toBe('en');
    expect(settings.autoSaveReceived).toBe(false);
    const snap = settings.snapshot();
    snap.relays.push('ws://elsewhere');
    expect(settings.relays).toEqual(base.relays);
    await expect(settings.save({ ...base, language: 'fr' as 'en' })).rejects.toThrow();
  });
});
