import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import type { Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The page's own CSP, added to the built HTML only (the dev server injects inline styles). */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function cspMeta(): Plugin {
  return {
    name: 'codi-csp-meta',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP }, injectTo: 'head' }],
  };
}

// A running web server (npm start) to proxy the engine socket to in `npm run dev:renderer`.
const devServer = process.env.CODI_SERVER ?? 'http://127.0.0.1:5174';

// Built once for both hosts: Electron loads it from app://, web mode from http://127.0.0.1,
// so every asset URL is relative (base './') and nothing is inlined into the HTML (CSP).
export default defineConfig({
  root,
  base: './',
  // The Svelte options are these defaults, given here so no svelte.config.js is looked for.
  plugins: [svelte({ configFile: false }), cspMeta()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/ws': {
        target: devServer,
        ws: true,
        changeOrigin: true,
        // The web server only accepts sockets from its own origin.
        configure: (proxy) => proxy.on('proxyReqWs', (req) => req.setHeader('origin', devServer)),
      },
    },
  },
});
