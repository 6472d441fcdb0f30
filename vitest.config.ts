import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// Every test process checks the programs it starts against .ci/system-deps.json (see that file).
const SPAWN_GUARD = './tests/setup/spawn-guard.ts';

// Three projects so each tier can run alone. Integration and e2e tests build network namespaces and
// run WebRTC peers: they run one file at a time so two files never fight for the same 2 cores.
export default defineConfig({
  test: {
    projects: [
      {
        // The Svelte plugin compiles .svelte.ts modules, so the renderer's state classes (runes) are
        // tested as they are, with their real types.
        plugins: [svelte({ configFile: false })],
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          setupFiles: [SPAWN_GUARD],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          setupFiles: [SPAWN_GUARD],
          fileParallelism: false,
          // Real networks, real peers and a native WebRTC (@roamhq/wrtc, libwebrtc M106) that now and then dies
          // on teardown: one retry, reported as such by the reporter, so such a flake does not hide the run.
          retry: 1,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          setupFiles: [SPAWN_GUARD],
          fileParallelism: false,
          // Two real Chromiums on 2 shared cores: one retry (see integration).
          retry: 1,
          testTimeout: 300_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
