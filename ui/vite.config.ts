import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The web UI. `npm run ui:dev` serves it with hot reload and forwards `/api` to the API
 * (`CUSTODIA_API_URL`, default http://127.0.0.1:8080); `npm run ui:build` writes `ui/dist/`,
 * which `npm start` serves beside the API.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 2000 },
  server: {
    port: 5173,
    strictPort: false,
    proxy: {
      '/api': { target: process.env.CUSTODIA_API_URL ?? 'http://127.0.0.1:8080', changeOrigin: false },
    },
  },
});
