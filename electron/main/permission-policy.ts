// Which web permissions the renderer gets: camera and microphone (calls), notifications, and sanitized
// clipboard writes ("copy invite link"); only for the app's own origin, only from the main frame of the
// app's own window. Everything else (screen capture, geolocation, HID/USB/serial, clipboard reads, ...) is
// denied, both when a page asks (request handler) and when it checks (check handler).
import { isAppOrigin, isAppUrl } from './app-origin.js';

export const GRANTED_PERMISSIONS: ReadonlySet<string> = new Set([
  'media',
  'notifications',
  'clipboard-sanitized-write',
]);

/** The parts of Electron's PermissionRequest / MediaAccessPermissionRequest this policy reads. */
export interface PermissionRequestDetailsLike {
  isMainFrame: boolean;
  requestingUrl: string;
  mediaTypes?: readonly string[];
  securityOrigin?: string;
}

/** The parts of Electron's PermissionCheckHandlerHandlerDetails this policy reads. */
export interface PermissionCheckDetailsLike {
  isMainFrame: boolean;
  requestingUrl?: string;
  mediaType?: string;
  securityOrigin?: string;
  embeddingOrigin?: string;
}

export interface WebContentsIdLike {
  readonly id: number;
}

export interface PermissionPolicy {
  onRequest(
    webContents: WebContentsIdLike,
    permission: string,
    callback: (granted: boolean) => void,
    details: PermissionRequestDetailsLike,
  ): void;
  onCheck(
    webContents: WebContentsIdLike | null,
    permission: string,
    requestingOrigin: string,
    details: PermissionCheckDetailsLike,
  ): boolean;
  /** setDevicePermissionHandler: no HID, USB, serial or Bluetooth device is ever granted. */
  onDevice(): boolean;
}

export interface PermissionPolicyDeps {
  /** True for the webContents of the app's own window. */
  isAppWebContents(webContents: WebContentsIdLike): boolean;
  /** Audit trail of refusals (permission name and why). */
  onDenied?(permission: string, reason: string): void;
}

const MEDIA_TYPES: ReadonlySet<string> = new Set(['audio', 'video']);

export function requestDecision(
  permission: string,
  details: PermissionRequestDetailsLike,
): { grant: boolean; reason: string } {
  if (!GRANTED_PERMISSIONS.has(permission)) return { grant: false, reason: 'permission not used by Parley' };
  if (!details.isMainFrame) return { grant: false, reason: 'requested from a subframe' };
  if (!isAppUrl(details.requestingUrl)) return { grant: false, reason: `requested by a foreign origin` };
  if (permission === 'media') {
    if (
      details.securityOrigin !== undefined &&
      !isAppOrigin(details.securityOrigin) &&
      !isAppUrl(details.securityOrigin)
    ) {
      return { grant: false, reason: 'media requested for a foreign security origin' };
    }
    const types = details.mediaTypes ?? [];
    // An empty list is not a camera/microphone request we can vouch for.
    if (types.length === 0 || !types.every((t) => MEDIA_TYPES.has(t)))
      return { grant: false, reason: 'media type other than camera/microphone' };
  }
  return { grant: true, reason: 'ok' };
}

export function checkDecision(
  permission: string,
  requestingOrigin: string,
  details: PermissionCheckDetailsLike,
): { grant: boolean; reason: string } {
  if (!GRANTED_PERMISSIONS.has(permission)) return { grant: false, reason: 'permission not used by Parley' };
  if (!details.isMainFrame) return { grant: false, reason: 'checked from a subframe' };
  if (!isAppOrigin(requestingOrigin) && !isAppUrl(requestingOrigin))
    return { grant: false, reason: 'checked by a foreign origin' };
  if (details.requestingUrl !== undefined && !isAppUrl(details.requestingUrl))
    return { grant: false, reason: 'checked from a foreign URL' };
  if (details.embeddingOrigin !== undefined && !isAppOrigin(details.embeddingOrigin))
    return { grant: false, reason: 'embedded in a foreign origin' };
  if (permission === 'media') {
    if (
      details.securityOrigin !== undefined &&
      !isAppOrigin(details.securityOrigin) &&
      !isAppUrl(details.securityOrigin)
    ) {
      return { grant: false, reason: 'media checked for a foreign security origin' };
    }
    if (details.mediaType !== undefined && !MEDIA_TYPES.has(details.mediaType))
      return { grant: false, reason: 'media type other than camera/microphone' };
  }
  return { grant: true, reason: 'ok' };
}

export function createPermissionPolicy(deps: PermissionPolicyDeps): PermissionPolicy {
  const deny = (permission: string, reason: string): false => {
    deps.onDenied?.(permission, reason);
    return false;
  };
  return {
    onRequest(webContents, permission, callback, details) {
      if (!deps.isAppWebContents(webContents)) {
        callback(deny(permission, 'not the app window'));
        return;
      }
      const d = requestDecision(permission, details);
      callback(d.grant || deny(permission, d.reason));
    },
    onCheck(webContents, permission, requestingOrigin, details) {
      if (webContents === null || !deps.isAppWebContents(webContents)) return deny(permission, 'not the app window');
      const d = checkDecision(permission, requestingOrigin, details);
      return d.grant || deny(permission, d.reason);
    },
    onDevice() {
      return deny('device', 'device access is never granted');
    },
  };
}
