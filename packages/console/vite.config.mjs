import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The console's front-end: built once (offline, from the npm registry's packages) into dist/ui and served
// as static files by `baton view` and the gateway. `base: './'` keeps every URL relative, so the same
// build works at `/` and under `/ui/`.
export default defineConfig({
  root: 'ui',
  base: './',
  plugins: [preact()],
  build: {
    outDir: '../dist/ui',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  logLevel: 'warn',
});
