import { describe, expect, it } from 'vitest';
import { createPermissionPolicy, GRANTED_PERMISSIONS } from '../../../electron/main/permission-policy.js';

const APP_WC = { id: 1 };
const OTHER_WC = { id: 2 };
const denied: string[] = [];
const policy = createPermissionPolicy({
  isAppWebContents: (wc) => wc.id === APP_WC.id,
  onDenied: (p, r) => denied.push(`${p}: ${r}`),
});

function request(wc: { id: number }, permission: string, details: Parameters<typeof policy.onRequest>[3]): boolean {
  let answer: boolean | undefined;
  policy.onRequest(wc, permission, (granted) => (answer = granted), details);
  if (answer === undefined) throw new Error('callback not called synchronously');
  return answer;
}

// Every permission name Electron 45 can ask about (from electron.d.ts).
const ALL_PERMISSIONS = [
  'ar',
  'automatic-fullscreen',
  'background-fetch',
  'background-sync',
  'captured-surface-control',
  'clipboard-read',
  'clipboard-sanitized-write',
  'deprecated-sync-clipboard-read',
  'display-capture',
  'fileSystem',
  'fullscreen',
  'geolocation',
  'geolocation-approximate',
  'hand-tracking',
  'hid',
  'idle-detection',
  'keyboardLock',
  'local-fonts',
  'local-network',
  'local-network-access',
  'loopback-network',
  'media',
  'mediaKeySystem',
  'midi',
  'midiSysex',
  'nfc',
  'notifications',
  'openExternal',
  'payment-handler',
  'periodic-background-sync',
  'persistent-storage',
  'pointerLock',
  'screen-wake-lock',
  'sensors',
  'serial',
  'smart-card',
  'speaker-selection',
  'storage-access',
  'system-wake-lock',
  'top-level-storage-access',
  'usb',
  'vr',
  'web-app-installation',
  'web-printing',
  'window-management',
  'unknown',
];

const ORIGINS: [string, string, boolean][] = [
  ['app://parley/index.html', 'app://parley', true],
  ['app://parley/chat/123', 'app://parley/', true],
  ['app://parley.evil/index.html', 'app://parley.evil', false],
  ['app://evil/index.html', 'app://evil', false],
  ['app://parley:8080/index.html', 'app://parley:8080', false],
  ['app://user@parley/index.html', 'app://parley', false],
  ['https://parley/index.html', 'https://parley', false],
  ['http://127.0.0.1:47913/', 'http://127.0.0.1:47913', false],
  ['file:///etc/passwd', 'file://', false],
  ['', '', false],
];

describe('permission request handler', () => {
  for (const permission of ALL_PERMISSIONS) {
    it(`${permission}: granted only to app://parley's main frame${GRANTED_PERMISSIONS.has(permission) ? '' : ' — never'}`, () => {
      for (const [url, , appOrigin] of ORIGINS) {
        for (const isMainFrame of [true, false]) {
          const expected = GRANTED_PERMISSIONS.has(permission) && appOrigin && isMainFrame;
          const details = {
            isMainFrame,
            requestingUrl: url,
            ...(permission === 'media' ? { mediaTypes: ['audio', 'video'] } : {}),
          };
          expect(request(APP_WC, permission, details), `${url || '(empty)'} ${isMainFrame ? 'main' : 'sub'}frame`).toBe(
            expected,
          );
        }
      }
    });
  }

  it('grants exactly media, notifications and sanitized clipboard writes', () => {
    expect([...GRANTED_PERMISSIONS].sort()).toEqual(['clipboard-sanitized-write', 'media', 'notifications']);
  });

  it('denies everything to a webContents that is not the app window', () => {
    for (const permission of GRANTED_PERMISSIONS) {
      expect(
        request(OTHER_WC, permission, {
          isMainFrame: true,
          requestingUrl: 'app://parley/index.html',
          mediaTypes: ['audio'],
        }),
      ).toBe(false);
    }
  });

  it('grants camera and microphone alone or together, nothing else under "media"', () => {
    const base = { isMainFrame: true, requestingUrl: 'app://parley/index.html' };
    expect(request(APP_WC, 'media', { ...base, mediaTypes: ['audio'] })).toBe(true);
    expect(request(APP_WC, 'media', { ...base, mediaTypes: ['video'] })).toBe(true);
    expect(request(APP_WC, 'media', { ...base, mediaTypes: [] })).toBe(false);
    expect(request(APP_WC, 'media', base)).toBe(false);
    expect(request(APP_WC, 'media', { ...base, mediaTypes: ['audio', 'screen'] })).toBe(false);
    expect(request(APP_WC, 'media', { ...base, mediaTypes: ['audio'], securityOrigin: 'https://evil.example' })).toBe(
      false,
    );
    expect(request(APP_WC, 'media', { ...base, mediaTypes: ['audio'], securityOrigin: 'app://parley' })).toBe(true);
  });

  it('records why it denied', () => {
    denied.length = 0;
    request(APP_WC, 'geolocation', { isMainFrame: true, requestingUrl: 'app://parley/index.html' });
    expect(denied).toEqual(['geolocation: permission not used by Parley']);
  });
});

describe('permission check handler', () => {
  for (const permission of ALL_PERMISSIONS) {
    it(`${permission}: check passes only for app://parley's main frame${GRANTED_PERMISSIONS.has(permission) ? '' : ' — never'}`, () => {
      for (const [url, origin, appOrigin] of ORIGINS) {
        for (const isMainFrame of [true, false]) {
          const expected = GRANTED_PERMISSIONS.has(permission) && appOrigin && isMainFrame;
          const details = {
            isMainFrame,
            requestingUrl: url,
            ...(permission === 'media' ? { mediaType: 'video' } : {}),
          };
          expect(
            policy.onCheck(APP_WC, permission, origin, details),
            `${origin || '(empty)'} ${isMainFrame ? 'main' : 'sub'}frame`,
          ).toBe(expected);
        }
      }
    });
  }

  it('denies checks without a webContents (service workers) or from another one', () => {
    expect(policy.onCheck(null, 'notifications', 'app://parley', { isMainFrame: true })).toBe(false);
    expect(policy.onCheck(OTHER_WC, 'notifications', 'app://parley', { isMainFrame: true })).toBe(false);
  });

  it('denies media checks of an unknown type, foreign embedding or security origin', () => {
    const base = { isMainFrame: true, requestingUrl: 'app://parley/index.html' };
    expect(policy.onCheck(APP_WC, 'media', 'app://parley', { ...base, mediaType: 'unknown' })).toBe(false);
    expect(
      policy.onCheck(APP_WC, 'media', 'app://parley', {
        ...base,
        mediaType: 'audio',
        securityOrigin: 'https://x.example',
      }),
    ).toBe(false);
    expect(
      policy.onCheck(APP_WC, 'notifications', 'app://parley', { ...base, embeddingOrigin: 'https://x.example' }),
    ).toBe(false);
    expect(policy.onCheck(APP_WC, 'media', 'app://parley', { ...base, mediaType: 'audio' })).toBe(true);
  });
});

describe('device permission handler', () => {
  it('never grants HID, USB, serial or Bluetooth devices', () => {
    expect(policy.onDevice()).toBe(false);
  });
});
