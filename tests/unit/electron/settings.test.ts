import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_RELAY_PORT,
  defaultSettings,
  parseSettings,
  SETTINGS_FILE,
  SettingsStore,
} from '../../../electron/main/settings.js';

const base = mkdtempSync(join(tmpdir(), 'parley-settings-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const fresh = () => mkdtempSync(join(base, 'u-'));

describe('settings', () => {
  it('defaults: loopback relay on the stable default port', async () => {
    const store = new SettingsStore(fresh());
    const r = await store.load();
    expect(r).toEqual({ settings: { version: 1, lanRelay: false, relayPort: DEFAULT_RELAY_PORT } });
  });

  it('round-trips through an atomic, private file', async () => {
    const dir = fresh();
    const store = new SettingsStore(dir);
    await store.load();
    await store.update((s) => {
      s.lanRelay = true;
      s.window = { x: 10, y: 20, width: 1000, height: 700, maximized: false };
    });
    expect(readdirSync(dir)).toEqual([SETTINGS_FILE]);
    expect(statSync(join(dir, SETTINGS_FILE)).mode & 0o777).toBe(0o600);
    const again = new SettingsStore(dir);
    expect((await again.load()).settings).toEqual({
      ...defaultSettings(),
      lanRelay: true,
      window: { x: 10, y: 20, width: 1000, height: 700, maximized: false },
    });
  });

  it('refuses an invalid update and keeps the previous value', async () => {
    const store = new SettingsStore(fresh());
    await store.load();
    await expect(store.update((s) => ((s as { relayPort: unknown }).relayPort = 70000))).rejects.toThrow();
    await expect(store.update((s) => ((s as Record<string, unknown>).evil = true))).rejects.toThrow();
    expect(store.value).toEqual(defaultSettings());
  });

  it('serializes concurrent saves; the last one wins on disk', async () => {
    const dir = fresh();
    const store = new SettingsStore(dir);
    await store.load();
    await Promise.all([1, 2, 3, 4, 5].map((p) => store.update((s) => void (s.relayPort = 40000 + p))));
    expect(JSON.parse(readFileSync(join(dir, SETTINGS_FILE), 'utf8')).relayPort).toBe(40005);
    // flush() waits for saves nobody awaited (the window's close handler fires and forgets).
    void store.update((s) => void (s.relayPort = 40100));
    await store.flush();
    expect(JSON.parse(readFileSync(join(dir, SETTINGS_FILE), 'utf8')).relayPort).toBe(40100);
  });

  const invalid: [string, string][] = [
    ['not json', '{lanRelay: true'],
    ['wrong type', JSON.stringify({ version: 1, lanRelay: 'yes', relayPort: 1 })],
    ['unknown key', JSON.stringify({ version: 1, lanRelay: false, relayPort: 1, exec: 'rm -rf ~' })],
    ['future version', JSON.stringify({ version: 2, lanRelay: false, relayPort: 1 })],
    ['port out of range', JSON.stringify({ version: 1, lanRelay: false, relayPort: -1 })],
    [
      'absurd bounds',
      JSON.stringify({ version: 1, lanRelay: false, relayPort: 1, window: { width: 1e9, height: 10 } }),
    ],
    ['array', '[]'],
  ];
  for (const [what, text] of invalid) {
    it(`sets aside a file with ${what} and uses defaults`, async () => {
      const dir = fresh();
      writeFileSync(join(dir, SETTINGS_FILE), text);
      const store = new SettingsStore(dir, () => 1234);
      const r = await store.load();
      expect(r.settings).toEqual(defaultSettings());
      expect(r.problem).toBeTruthy();
      expect(r.movedTo).toBe(join(dir, 'settings.invalid-1234.json'));
      // The user's file is kept, byte for byte, and no longer in the way.
      expect(readFileSync(r.movedTo!, 'utf8')).toBe(text);
      expect(existsSync(join(dir, SETTINGS_FILE))).toBe(false);
    });
  }

  it('parseSettings explains what is wrong', () => {
    const r = parseSettings(JSON.stringify({ version: 1, lanRelay: false, relayPort: 'x' }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/relayPort/);
  });
});
