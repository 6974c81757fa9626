import { BatonError } from '../errors.js';

const loaded = new Map<string, Promise<unknown>>();

/**
 * Imports a provider SDK on first use, so importing `@baton/core` costs nothing for users who never call
 * that provider. A failed import (the package is missing) is not cached and says what to install.
 */
export function loadSdk<T>(name: string, load: () => Promise<T>): Promise<T> {
  let promise = loaded.get(name) as Promise<T> | undefined;
  if (!promise) {
    promise = load().catch((error: unknown) => {
      loaded.delete(name);
      throw new BatonError(
        'CONFIG_INVALID',
        `Cannot load the "${name}" package: install it with npm install ${name}`,
        {
          cause: error,
        },
      );
    });
    loaded.set(name, promise);
  }
  return promise;
}
