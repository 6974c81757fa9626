import { BatonError } from '../errors.js';

/**
 * The packages `@baton/core` loads only when a feature needs them, with the versions it is built and
 * tested against. They are optional peer dependencies (package.json): a core install stays small, and
 * `npm install <name>@<range>` adds one where it is used. A test keeps this table and package.json equal.
 */
export const OPTIONAL_DEPENDENCIES = {
  openai: {
    range: '^6.49.0',
    feature: 'the openai() provider, openAIEmbedder() and the OpenAI moderation guard',
  },
  '@anthropic-ai/sdk': { range: '^1.13.0', feature: 'the anthropic() provider' },
  'libpg-query': { range: '^18.1.5', feature: "the read-only SQL guard's PostgreSQL parser" },
} as const;

export type OptionalDependency = keyof typeof OPTIONAL_DEPENDENCIES;

const loaded = new Map<string, Promise<unknown>>();

/**
 * Imports an optional package on first use, so importing `@baton/core` costs nothing for users who never
 * call that feature. A failed import is not cached (installing the package fixes the next call) and is a
 * `DEPENDENCY_MISSING` BatonError that names the package and the command that installs it.
 */
export function loadSdk<T>(name: OptionalDependency, load: () => Promise<T>): Promise<T> {
  let promise = loaded.get(name) as Promise<T> | undefined;
  if (!promise) {
    promise = load().catch((error: unknown) => {
      loaded.delete(name);
      throw missingDependency(name, error);
    });
    loaded.set(name, promise);
  }
  return promise;
}

/** The error for an optional package that could not be imported (absent, or present but broken). */
export function missingDependency(name: OptionalDependency, cause: unknown): BatonError {
  const { range, feature } = OPTIONAL_DEPENDENCIES[name];
  const install = `npm install ${name}@${range}`;
  const absent = isNotFound(cause, name);
  const what = absent
    ? `The "${name}" package is not installed`
    : `The "${name}" package is installed but could not be loaded (${messageOf(cause)})`;
  return new BatonError('DEPENDENCY_MISSING', `${what}: ${feature} needs it. Install it with: ${install}`, {
    cause,
    hint: install,
    details: { package: name, range, install, installed: !absent },
  });
}

/** True when the import failed because `name` itself cannot be resolved (not one of its own imports). */
function isNotFound(error: unknown, name: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && message.includes(`'${name}'`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
