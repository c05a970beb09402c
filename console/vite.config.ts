import { readFileSync } from "node:fs";
import { defineConfig, type Plugin } from "vite";

/** `npm run dev` only: serve ./config.local.json as ./config.json (the gateway serves the real one). */
function devConfig(): Plugin {
  return {
    name: "helpline-dev-config",
    apply: "serve",
    configureServer(server) {
      server.middlewares.use("/config.json", (_request, response) => {
        response.setHeader("Content-Type", "application/json");
        response.setHeader("Cache-Control", "no-store");
        response.end(readFileSync(new URL("./config.local.json", import.meta.url)));
      });
    },
  };
}

// Served under <ApiUrl>/console/ by the API gateway and under CloudFront when deployed, with a
// Content-Security-Policy without 'unsafe-inline': relative asset URLs, no inline script (no module
// preload polyfill), no inlined assets, everything bundled (no CDN, no web fonts).
export default defineConfig({
  base: "./",
  plugins: [devConfig()],
  esbuild: {
    jsx: "automatic",
    jsxImportSource: "preact",
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    sourcemap: false,
    chunkSizeWarningLimit: 700,
    rollupOptions: {
      output: {
        // Our code in one chunk, the libraries (Amplify, Preact, openapi-fetch) in another: a new
        // console release changes only the first.
        manualChunks(id: string): string | undefined {
          return id.includes("/node_modules/") ? "vendor" : undefined;
        },
      },
    },
  },
  server: {
    port: 5173,
    strictPort: false,
  },
});
