// electron-builder configuration (`npm run dist`): AppImage + deb (Linux), NSIS (Windows), dmg (macOS).
// Validated against electron-builder's own schema by tests/unit/electron/builder-config.test.ts.
'use strict';

/** @type {import('electron-builder').Configuration} */
const config = {
  appId: 'org.parley.desktop',
  productName: 'Parley',
  copyright: 'Copyright © Parley contributors',
  directories: { output: 'release', buildResources: 'build' },

  // Only what runs: compiled main/preload, the built renderer, the relay the main process embeds, and the
  // icons the main process loads at run time (build/ itself is not packed by default).
  // electron-builder adds the production node_modules (ws, zod, pino, ...) by itself.
  files: [
    'package.json',
    'dist/electron/**/*',
    'dist/renderer/**/*',
    'dist/core/**/*',
    // The Node adapters main uses (received files: electron/main/download-sinks.ts).
    'dist/platform/node/**/*',
    'dist/signaling/**/*',
    'build/icons/tray/**/*',
    'build/icons/png/512x512.png',
    // tsc's per-file ESM preload cannot load in a sandbox; only the bundled index.cjs ships.
    '!dist/electron/preload/*.js',
    '!**/*.map',
    '!**/*.d.ts',
    '!**/*.tsbuildinfo',
    // Node-only WebRTC for the CLI and tests; the app uses Chromium's WebRTC. Its native binary would
    // otherwise be shipped (and rebuilt) for nothing.
    '!node_modules/@roamhq/**',
  ],
  asar: true,
  npmRebuild: false,
  nodeGypRebuild: false,
  // Linux: Electron derives the window's app_id / WM_CLASS from desktopName, matching parley.desktop.
  extraMetadata: { desktopName: 'parley.desktop' },

  protocols: [{ name: 'Parley invite', schemes: ['parley'] }],

  // Flipped right before signing (electron-builder does it at the correct step on every platform, which an
  // afterPack hook would only approximate).
  electronFuses: {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    grantFileProtocolExtraPrivileges: false,
    loadBrowserProcessSpecificV8Snapshot: false,
  },

  // The sandboxed preload must be one CommonJS file; `npm run build` (tsc) does not produce it.
  beforePack: async () => {
    const { pathToFileURL } = require('node:url');
    const { bundlePreload } = await import(
      pathToFileURL(require('node:path').join(__dirname, 'bundle-preload.mjs')).href
    );
    await bundlePreload();
  },

  linux: {
    target: ['AppImage', 'deb'],
    category: 'Network;InstantMessaging',
    icon: 'build/icons/png',
    executableName: 'parley',
    synopsis: 'Peer-to-peer messenger: chat, calls and files',
    description:
      'Parley is a desktop peer-to-peer messenger with chat, audio and video calls and file transfer of any size, with an end-to-end-encrypted relay fallback.',
    maintainer: 'Parley maintainers <maintainers@parley.invalid>',
    vendor: 'Parley',
    // The `parley:` scheme handler (x-scheme-handler/parley) is added to the .desktop file from `protocols`.
  },
  deb: {
    priority: 'optional',
  },
  appImage: {
    artifactName: '${productName}-${version}-${arch}.${ext}',
  },

  win: {
    target: [{ target: 'nsis', arch: ['x64'] }],
    icon: 'build/icons/icon.ico',
  },
  nsis: {
    oneClick: false,
    perMachine: false,
    allowToChangeInstallationDirectory: true,
    createDesktopShortcut: true,
    createStartMenuShortcut: true,
    deleteAppDataOnUninstall: false,
  },

  mac: {
    target: ['dmg'],
    category: 'public.app-category.social-networking',
    icon: 'build/icons/icon.icns',
    hardenedRuntime: true,
    gatekeeperAssess: false,
    entitlements: 'build/entitlements.mac.plist',
    entitlementsInherit: 'build/entitlements.mac.plist',
    extendInfo: {
      NSCameraUsageDescription: 'Parley uses the camera for video calls you start or accept.',
      NSMicrophoneUsageDescription: 'Parley uses the microphone for calls you start or accept.',
    },
  },
  dmg: {
    artifactName: '${productName}-${version}-${arch}.${ext}',
  },
};

module.exports = config;
