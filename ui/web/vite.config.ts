/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// The app is built into ../dist, which the Go binary embeds (ui/embed.go).
// The build must be byte-for-byte reproducible: CI rebuilds and compares
// with the committed output.
export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
    rolldownOptions: {
      // React Flow marks its bundle "use client" (for React Server
      // Components); a browser bundle has no use for it.
      onwarn(w, warn) {
        if (w.code !== 'MODULE_LEVEL_DIRECTIVE') warn(w);
      },
    },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
