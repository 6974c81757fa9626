import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Where `npm run build:ui` puts the front-end: `dist/ui` next to this module's `dist`. */
export function defaultUiDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // From dist/ (built) or src/ (tests against the sources) the package root is one level up.
  return resolve(here, '..', 'dist', 'ui');
}

export interface StaticFile {
  body: Uint8Array;
  type: string;
  /** Hashed asset names never change content: cache them for good. */
  immutable: boolean;
}

/** A file of the built UI; undefined outside `root` or when missing. */
export function readStatic(root: string, path: string): StaticFile | undefined {
  const relative = normalize(decodeURIComponent(path)).replace(/^([/\\])+/, '');
  const full = resolve(root, relative === '' ? 'index.html' : relative);
  if (full !== resolve(root) && !full.startsWith(resolve(root) + sep)) return undefined;
  if (!existsSync(full) || !statSync(full).isFile()) return undefined;
  return {
    body: readFileSync(full),
    type: TYPES[extname(full)] ?? 'application/octet-stream',
    immutable: full.startsWith(join(resolve(root), 'assets') + sep),
  };
}
