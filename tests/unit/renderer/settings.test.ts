import { beforeAll, describe, expect, it } from 'vitest';
import { loadRenderer } from './load.js';

interface Settings {
  relays: string[];
  iceServers: Array<{ urls: string[]; username?: string; credential?: string }>;
  language: 'en' | 'zh';
  notifications: boolean;
}
let validateSettings: (s: Settings) => Array<{ field: string; index?: number; code: string }>;
let SettingsSchema: { safeParse(v: unknown): { success: boolean } };

beforeAll(async () => {
  ({ validateSettings, SettingsSchema } = await loadRenderer<{ validateSettings: typeof validateSettings; SettingsSchema: typeof SettingsSchema }>(
    'state/settings-schema.ts',
  ));
});

const base: Settings = { relays: ['ws://10.99.0.3:8080/ws'], iceServers: [], language: 'en', notifications: true };

describe('settings validation', () => {
  it('accepts a valid relay and TURN server', () => {
    expect(validateSettings({ ...base, iceServers: [{ urls: ['turn:10.99.0.3:3478?transport=udp'], username: 'u', credential: 'p' }] })).toEqual([]);
    expect(validateSettings({ ...base, iceServers: [{ urls: ['stun:10.99.0.3:3478'] }] })).toEqual([]);
  });

  it('flags bad relays, a missing relay, bad ICE URLs and TURN without credentials', () => {
    expect(validateSettings({ ...base, relays: ['ftp://x'] })).toEqual([{ field: 'relay', index: 0, code: 'relay-invalid' }]);
    expect(validateSettings({ ...base, relays: ['wss://user@evil.example/ws'] })[0]?.code).toBe('relay-invalid');
    expect(validateSettings({ ...base, relays: [] })).toEqual([{ field: 'relay', code: 'relay-required' }]);
    expect(validateSettings({ ...base, iceServers: [{ urls: ['https://turn.example'] }] })).toEqual([{ field: 'ice', index: 0, code: 'ice-url' }]);
    expect(validateSettings({ ...base, iceServers: [{ urls: ['turns:turn.example:5349'], username: 'u' }] })).toEqual([{ field: 'ice', index: 0, code: 'ice-credential' }]);
  });

  it('refuses stored settings of the wrong shape', () => {
    expect(SettingsSchema.safeParse(base).success).toBe(true);
    expect(SettingsSchema.safeParse({ ...base, language: 'fr' }).success).toBe(false);
    expect(SettingsSchema.safeParse({ ...base, relays: 'ws://x' }).success).toBe(false);
    expect(SettingsSchema.safeParse({ ...base, iceServers: [{ urls: [] }] }).success).toBe(false);
  });
});
