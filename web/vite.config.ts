import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// The dashboard is a static browser app; the server serves web/dist and the API on the same origin.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  build: { outDir: 'dist', emptyOutDir: true },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } } },
});
