import { defineConfig } from 'vite';

// The page is served by `recist3d serve` from dist/web (built by scripts/setup.sh).
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
    sourcemap: false,
  },
});
