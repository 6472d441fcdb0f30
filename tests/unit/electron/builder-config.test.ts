// The electron-builder configuration: required fields checked here, then electron-builder's own schema
// validation (app-builder-lib's validateConfiguration, the same check `electron-builder` runs first).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..', '..');
const require = createRequire(import.meta.url);
const config = require(join(root, 'build', 'electron-builder.config.cjs')) as Record<string, any>;
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

describe('electron-builder configuration', () => {
  it('passes electron-builder’s schema validation', async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('the validation does reject a broken configuration', async () => {
    await expect(
      validateConfiguration({ ...config, linux: { ...config.linux, notAnOption: true } }, new DebugLogger(false)),
    ).rejects.toThrow(/Invalid configuration/);
    await expect(
      validateConfiguration(
        { ...config, electronFuses: { ...config.electronFuses, runAsNodee: false } },
        new DebugLogger(false),
      ),
    ).rejects.toThrow(/Invalid configuration/);
  });

  it('is referenced by npm run dist', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.scripts.dist).toContain('--config build/electron-builder.config.cjs');
    expect(pkg.main).toBe('dist/electron/main/index.js');
  });

  it('names the app and its invite scheme', () => {
    expect(config.appId).toBe('org.parley.desktop');
    expect(config.productName).toBe('Parley');
    expect(config.protocols).toEqual([{ name: 'Parley invite', schemes: ['parley'] }]);
  });

  it('builds AppImage + deb, NSIS and dmg', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.linux.category).toBe('Network;InstantMessaging');
    expect(config.linux.maintainer).toMatch(/<.+@.+>/);
    expect(config.win.target).toEqual([{ target: 'nsis', arch: ['x64'] }]);
    expect(config.mac.target).toEqual(['dmg']);
  });

  it('hardens the macOS build with only camera and microphone entitlements and usage strings', () => {
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.mac.extendInfo.NSCameraUsageDescription).toMatch(/camera/);
    expect(config.mac.extendInfo.NSMicrophoneUsageDescription).toMatch(/microphone/);
    const plist = readFileSync(join(root, config.mac.entitlements), 'utf8');
    const keys = [...plist.matchAll(/<key>([^<]+)<\/key>/g)].map((m) => m[1]).sort();
    expect(keys).toEqual([
      'com.apple.security.cs.allow-jit',
      'com.apple.security.device.audio-input',
      'com.apple.security.device.camera',
    ]);
  });

  it('flips the fuses that turn the app binary into something else', () => {
    expect(config.asar).toBe(true);
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
      loadBrowserProcessSpecificV8Snapshot: false,
    });
  });

  it('packs what the app loads at run time and leaves out the Node-only WebRTC binary', () => {
    for (const needed of [
      'package.json',
      'dist/electron/**/*',
      'dist/renderer/**/*',
      'dist/signaling/**/*',
      'dist/core/**/*',
      'dist/platform/node/**/*',
      'build/icons/tray/**/*',
    ]) {
      expect(config.files).toContain(needed);
    }
    expect(config.files).toContain('!node_modules/@roamhq/**');
    expect(config.files).toContain('!dist/electron/preload/*.js');
    expect(typeof config.beforePack).toBe('function');
  });

  it('beforePack produces the bundled preload the window loads', async () => {
    await config.beforePack();
    const bundle = readFileSync(join(root, 'dist', 'electron', 'preload', 'index.cjs'), 'utf8');
    expect(bundle).toMatch(/exposeInMainWorld\("parley"/);
  }, 60_000);

  it('points at icons that exist and have the right sizes', () => {
    const png = (p: string) => {
      const b = readFileSync(join(root, p));
      expect(b.subarray(1, 4).toString('ascii'), p).toBe('PNG');
      return [b.readUInt32BE(16), b.readUInt32BE(20)];
    };
    for (const size of [16, 32, 48, 64, 128, 256, 512, 1024])
      expect(png(`${config.linux.icon}/${size}x${size}.png`)).toEqual([size, size]);
    const ico = readFileSync(join(root, config.win.icon));
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1]);
    expect(ico.readUInt16LE(4)).toBeGreaterThanOrEqual(5);
    const icns = readFileSync(join(root, config.mac.icon));
    expect(icns.subarray(0, 4).toString('ascii')).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    expect(existsSync(join(root, 'build', 'icons', 'png', '512x512.png'))).toBe(true);
  });
});
