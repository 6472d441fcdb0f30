// Web build of the renderer. Output goes to dist/renderer, which both the relay (web client) and
// Electron (app:// scheme) serve. Relative asset paths so it works from any base URL.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [svelte()],
  resolve: {
    // simple-peer's main entry needs Node's stream/buffer polyfills; its prebuilt browser bundle carries its own.
    alias: { 'simple-peer': 'simple-peer/simplepeer.min.js' },
  },
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  server: { host: '127.0.0.1', fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
});
