// The response headers every file of the web client is served with, by app:// and by the relay alike.
import { contentSecurityPolicy, type WebClientHost } from './csp.js';

/**
 * Camera and microphone for calls, on this origin only; every other powerful feature off (screen sharing
 * included: the app does not offer it).
 */
export const PERMISSIONS_POLICY =
  'camera=(self), microphone=(self), display-capture=(), geolocation=(), usb=(), serial=(), hid=(), bluetooth=(), payment=()';

export function securityHeaders(host: WebClientHost): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(host),
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Referrer-Policy': 'no-referrer',
    'Permissions-Policy': PERMISSIONS_POLICY,
    'X-Frame-Options': 'DENY',
  };
}
