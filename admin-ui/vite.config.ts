import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// `npm run dev` serves the UI with hot reload and proxies the API to a running
// basalt (BASALT_URL, default http://127.0.0.1:8090).
const target = process.env.BASALT_URL ?? 'http://127.0.0.1:8090';

export default defineConfig({
  base: '/_/',
  plugins: [svelte()],
  server: {
    proxy: { '/api': { target, changeOrigin: true } },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    // One JS and one CSS file: the dashboard is small, and fewer files keep the
    // committed build and the embedded binary lean.
    cssCodeSplit: false,
    modulePreload: false,
    reportCompressedSize: true,
  },
});
