import { readFileSync } from 'node:fs';

/** The version of a package actually installed in bench/peers/node_modules (not the range asked for). */
export function installedVersion(name) {
  const manifest = new URL(`./node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(manifest, 'utf8')).version;
}
