import { readFileSync } from 'node:fs';

/**
 * The `version` of the package.json at `relativePath` from `moduleUrl` (a module's `import.meta.url`),
 * for a tracer's instrumentation scope: read at load time, so a release never reports a stale literal.
 * The sources and `dist/` sit at the same depth, so one relative path serves both. `0.0.0` when it
 * cannot be read (a bundle that dropped the package.json), since a scope without version is still valid.
 */
export function packageVersion(moduleUrl: string, relativePath: string): string {
  try {
    const parsed: unknown = JSON.parse(readFileSync(new URL(relativePath, moduleUrl), 'utf8'));
    const version = (parsed as { version?: unknown } | null)?.version;
    return typeof version === 'string' && version !== '' ? version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
