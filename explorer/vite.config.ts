/**
 * Builds the block explorer into artifacts/explorer/ (index.html + hashed assets/), which every
 * node serves at GET / (src/api/explorer.ts). `vite --config explorer/vite.config.ts` runs a dev
 * server that proxies the REST and JSON-RPC APIs to a node (CATENA_NODE, default :8545).
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const here = fileURLToPath(new URL('.', import.meta.url))
const repo = fileURLToPath(new URL('..', import.meta.url))
const node = process.env.CATENA_NODE ?? 'http://127.0.0.1:8545'

export default defineConfig({
  root: here,
  // Relative asset URLs: the page works wherever the node (or a proxy) mounts it.
  base: './',
  publicDir: false,
  build: {
    outDir: `${repo}artifacts/explorer`,
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: {
    fs: { allow: [repo] },
    // In dev the page is served by Vite, so JSON-RPC goes to /rpc and is forwarded to the node's POST /.
    proxy: {
      '/v1': node,
      '/rpc': { target: node, ws: true, rewrite: () => '/' },
    },
  },
})
