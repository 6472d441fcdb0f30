// ESLint flat config. `npm run lint` (and the lint stage of `npm test`) runs it over the whole tree.
// Kept pragmatic: the recommended rule sets without type information (fast on two cores), plus the
// import-boundary rule below, which is the part of this file that states the architecture.
import { builtinRules } from 'eslint/use-at-your-own-risk';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import parley from './scripts/lint/import-layers.mjs';

const root = import.meta.dirname;

// ESLint's own recommended rules (what @eslint/js's `recommended` holds), read from ESLint itself so
// no extra package is needed.
const eslintRecommended = Object.fromEntries(
  [...builtinRules].filter(([, rule]) => rule.meta?.docs?.recommended).map(([name]) => [name, 'error']),
);

// Packages that only exist in one runtime; a layer that runs elsewhere must not import them.
const NODE_ONLY = ['ws', '@roamhq/wrtc', 'pino', 'commander', 'ioredis', 'bufferutil'];
const ELECTRON = ['electron'];

/**
 * The layers, innermost first. A file belongs to the first layer whose folder contains it; it may import
 * its own layer, the folders in `mayImport`, and the folders in `mayImportTypes` with `import type` only.
 * Folders in no layer (tests/, scripts/, build/, bin/, renderer/vite.config.ts) are tools. Tests may import
 * every layer (they test each one, the CLI included); scripts/ and build/ may not import cli/ (see the
 * no-restricted-imports block at the end): nothing but the CLI imports cli/.
 */
const layers = [
  {
    name: 'signaling/protocol',
    folders: ['signaling/protocol'],
    mayImport: [],
    nodeBuiltins: false,
    forbiddenPackages: [...ELECTRON, ...NODE_ONLY],
    why: 'the wire protocol is shared by the relay, core and the web client, so it imports nothing of ours and runs everywhere',
  },
  {
    name: 'signaling/web-policy',
    folders: ['signaling/web-policy'],
    mayImport: [],
    forbiddenPackages: ELECTRON,
    why: 'how the web client is served (CSP, headers, MIME types, safe paths): one policy for app:// and the relay, depending on neither',
  },
  {
    name: 'signaling/server',
    folders: ['signaling/server'],
    mayImport: ['signaling/protocol', 'signaling/web-policy'],
    forbiddenPackages: ELECTRON,
    why: 'the relay stands alone: it knows the wire protocol and nothing of the messenger',
  },
  {
    name: 'core',
    folders: ['core'],
    mayImport: ['signaling/protocol'],
    nodeBuiltins: false,
    forbiddenPackages: [...ELECTRON, ...NODE_ONLY, 'svelte', 'idb'],
    why: 'core runs in the renderer, the web client and Node alike; platform parts are passed in (core/src/platform/types.ts)',
  },
  {
    name: 'platform/node',
    folders: ['platform/node'],
    mayImport: ['core', 'signaling/protocol'],
    forbiddenPackages: [...ELECTRON, 'svelte'],
    why: 'the Node adapters serve the CLI, the Electron main process and the tests; they know core, not their users',
  },
  {
    name: 'cli',
    folders: ['cli'],
    mayImport: ['core', 'signaling/protocol', 'platform/node'],
    forbiddenPackages: [...ELECTRON, 'svelte'],
    why: 'the CLI is a shell over core and the Node adapters',
  },
  {
    name: 'electron/main',
    folders: ['electron/main'],
    mayImport: [
      'core',
      'signaling/protocol',
      'signaling/server',
      'signaling/web-policy',
      'platform/node',
      'electron/shared',
    ],
    why: 'the main process composes core, the embedded relay and the Node adapters; it never reaches into the CLI or the renderer',
  },
  {
    name: 'electron/preload',
    folders: ['electron/preload'],
    mayImport: ['electron/shared'],
    mayImportTypes: ['core'],
    nodeBuiltins: false,
    why: 'the sandboxed preload only forwards validated IPC; it shares the contract, and core only as types',
  },
  {
    name: 'electron/shared',
    folders: ['electron/shared'],
    mayImport: [],
    mayImportTypes: ['core', 'signaling/protocol'],
    nodeBuiltins: false,
    forbiddenPackages: [...ELECTRON, ...NODE_ONLY],
    why: 'the IPC contract is plain data shared by main and preload (and, as types, the renderer)',
  },
  {
    name: 'renderer',
    folders: ['renderer/src'],
    mayImport: ['core', 'signaling/protocol'],
    // The bridge contract is the seam between renderer and main: types only, erased at build. The
    // `electron` package itself is never imported, not even as types: the renderer also runs as the
    // web client, where there is no Electron.
    mayImportTypes: ['electron/shared'],
    nodeBuiltins: false,
    forbiddenPackages: [...ELECTRON, ...NODE_ONLY],
    why: 'the renderer is also the web client: it talks to the desktop only through the bridge (core/src/bridge.ts)',
  },
  {
    name: 'bench',
    folders: ['bench'],
    mayImport: ['core', 'signaling/protocol', 'signaling/server', 'platform/node', 'tests/testbed', 'tests/harness'],
    why: 'benchmarks share the test bed and the peer harness (tests/testbed, tests/harness) with the tests, never a test tier or the CLI',
  },
];

// Globals that exist only in a browser page; core must stay runnable in Node.
const DOM_ONLY_GLOBALS = [
  'window',
  'document',
  'navigator',
  'localStorage',
  'sessionStorage',
  'indexedDB',
  'location',
  'HTMLElement',
  'Blob',
  'FileReader',
  'RTCPeerConnection',
  'MediaStream',
];

export default tseslint.config(
  {
    ignores: [
      'dist/',
      '.tsbuild/',
      'node_modules/',
      'test-artifacts/',
      '.tmp/',
      'coverage/',
      'release/',
      'types/web-globals.d.ts',
    ],
  },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  { files: ['**/*.{js,mjs,cjs,ts,mts,cts,svelte}'], rules: eslintRecommended },
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['renderer/src/**', 'tests/e2e/**', 'tests/testbed/peers/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['core/**', 'signaling/protocol/**'],
    languageOptions: { globals: { ...globals['shared-node-browser'] } },
  },
  {
    // Project-wide choices where the recommended sets disagree with how this code base is written.
    rules: {
      // TypeScript checks these itself (and knows the globals per tsconfig).
      'no-undef': 'off',
      'no-redeclare': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // `const sink = this` for getters of a returned object literal is a deliberate pattern here.
      '@typescript-eslint/no-this-alias': 'off',
      // Ambient declarations for untyped packages are referenced by path (core/src/platform/simple-peer.d.ts).
      '@typescript-eslint/triple-slash-reference': ['error', { path: 'always', types: 'prefer-import', lib: 'always' }],
      // svelte-check --fail-on-warnings (typecheck stage) is the judge of Svelte compiler warnings.
      'svelte/no-unused-svelte-ignore': 'off',
    },
  },
  {
    // State classes keep explicit $state fields; their private Maps/Sets are bookkeeping, not view state.
    files: ['**/*.svelte.ts'],
    rules: { 'svelte/prefer-svelte-reactivity': 'off' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Test and benchmark plumbing (RPC payloads, loaded configs) may be loosely typed.
    files: ['tests/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    plugins: { parley },
    rules: { 'parley/import-layers': ['error', { root, layers }] },
  },
  {
    files: ['core/**'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...DOM_ONLY_GLOBALS.map((name) => ({
          name,
          message: 'core runs in Node too: take it from a platform interface.',
        })),
      ],
    },
  },
  {
    // Nothing but the CLI imports cli/: tools and tests other than the CLI's own tests included.
    files: ['scripts/**', 'build/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/cli/src/**', '**/cli/src'],
              message: 'nothing but the CLI imports cli/: use platform/node/.',
            },
          ],
        },
      ],
    },
  },
);
