import { defineConfig } from 'vite';

// Built into dist/, which cairn-indexer serves at /app/ (--app-dir web/dist).
export default defineConfig({
  base: '/app/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false },
  test: { include: ['test/**/*.test.ts'] },
} as never);
