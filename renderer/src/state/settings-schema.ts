// User settings, validated on load (IndexedDB contents are input like any other) and on save.
import { z } from 'zod';
import { checkRelayUrl } from '../../../core/src/identity/profile.js';

export const MAX_ICE_SERVERS = 8;

const ICE_URL = /^(stuns?|turns?):[^\s]{1,250}$/i;

export const IceServerSchema = z.object({
  urls: z.array(z.string().regex(ICE_URL)).min(1).max(4),
  username: z.string().max(256).optional(),
  credential: z.string().max(256).optional(),
});
export type IceServerSetting = z.infer<typeof IceServerSchema>;

export const SettingsSchema = z.object({
  relays: z.array(z.string()).max(4),
  iceServers: z.array(IceServerSchema).max(MAX_ICE_SERVERS),
  language: z.enum(['en', 'zh']),
  notifications: z.boolean(),
  /** Web client: hand each received file to the browser's downloads as soon as it is verified. */
  autoSaveReceived: z.boolean(),
  /** Always use the relay (IP privacy): no direct connections; calls only through a TURN server. */
  relayOnly: z.boolean(),
});
export type Settings = z.infer<typeof SettingsSchema>;

export type FieldError = {
  field: string;
  index?: number;
  code: 'relay-invalid' | 'relay-required' | 'ice-url' | 'ice-credential';
};

/** Checks one TURN/STUN URL; turn(s) URLs need a username and credential. */
export function isIceUrl(url: string): boolean {
  return ICE_URL.test(url.trim());
}

/** Validates edited settings; returns the first problem per field, for inline messages. */
export function validateSettings(s: Settings): FieldError[] {
  const errors: FieldError[] = [];
  s.relays.forEach((r, index) => {
    if (!checkRelayUrl(r.trim()).ok) errors.push({ field: 'relay', index, code: 'relay-invalid' });
  });
  if (s.relays.length === 0) errors.push({ field: 'relay', code: 'relay-required' });
  s.iceServers.forEach((server, index) => {
    if (server.urls.length === 0 || !server.urls.every(isIceUrl)) errors.push({ field: 'ice', index, code: 'ice-url' });
    else if (server.urls.some((u) => /^turns?:/i.test(u)) && (!server.username || !server.credential)) {
      errors.push({ field: 'ice', index, code: 'ice-credential' });
    }
  });
  return errors;
}

/** RTCIceServer list for the engine. */
export function toRtcIceServers(
  servers: readonly IceServerSetting[],
): Array<{ urls: string[]; username?: string; credential?: string }> {
  return servers.map((s) => ({
    urls: s.urls.map((u) => u.trim()),
    ...(s.username ? { username: s.username } : {}),
    ...(s.credential ? { credential: s.credential } : {}),
  }));
}
