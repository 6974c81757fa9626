#!/usr/bin/env node
// The `baton` bin is this committed file rather than dist/bin.js: npm links a package's bins when it
// installs it, and in the repository dist/ is only built afterwards (`npm ci` runs `prepare`, tsc -b,
// last), so a bin pointing into dist/ was never linked and `npx baton` did not resolve after `npm ci`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('baton: the CLI is not built yet: run `npm run build` in the repository first.\n');
  process.exit(1);
}
await import(entry.href);
