import { readFile } from 'node:fs/promises';
import { BatonError, checkReadOnlySql } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { loadSdk, missingDependency, OPTIONAL_DEPENDENCIES } from '../../src/providers/load-sdk.js';

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const manifest = JSON.parse(
  await readFile(new URL('../../package.json', import.meta.url), 'utf8'),
) as Manifest;

/** What Node throws for `import('<name>')` when the package is not installed. */
function notFound(name: string): Error {
  return Object.assign(
    new Error(`Cannot find package '${name}' imported from /app/node_modules/@baton/core/dist/x.js`),
    {
      code: 'ERR_MODULE_NOT_FOUND',
    },
  );
}

describe('optional dependencies of @baton/core', () => {
  it('are exactly the optional peer dependencies of package.json, with the same ranges', () => {
    const table = Object.fromEntries(
      Object.entries(OPTIONAL_DEPENDENCIES).map(([name, { range }]) => [name, range]),
    );
    expect(table).toEqual(manifest.peerDependencies);
    for (const name of Object.keys(table)) {
      expect(manifest.peerDependenciesMeta?.[name]?.optional, name).toBe(true);
      // Not a dependency (a core install stays small), but installed for the repository's own tests.
      expect(manifest.dependencies?.[name], name).toBeUndefined();
      expect(manifest.devDependencies?.[name], name).toBeDefined();
    }
  });

  it('a missing package is DEPENDENCY_MISSING naming the package and the install command', async () => {
    const error = await loadSdk('@anthropic-ai/sdk', () =>
      Promise.reject(notFound('@anthropic-ai/sdk')),
    ).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(BatonError);
    const baton = error as BatonError;
    expect(baton.code).toBe('DEPENDENCY_MISSING');
    expect(baton.category).toBe('user');
    expect(baton.retryable).toBe(false);
    expect(baton.message).toBe(
      'The "@anthropic-ai/sdk" package is not installed: the anthropic() provider needs it. ' +
        'Install it with: npm install @anthropic-ai/sdk@^1.13.0',
    );
    expect(baton.hint).toBe('npm install @anthropic-ai/sdk@^1.13.0');
    expect(baton.details).toEqual({
      package: '@anthropic-ai/sdk',
      range: '^1.13.0',
      install: 'npm install @anthropic-ai/sdk@^1.13.0',
      installed: false,
    });
    // The JSON form (what crosses the bus) keeps the code and the install line.
    expect(baton.toJSON()).toMatchObject({
      code: 'DEPENDENCY_MISSING',
      hint: 'npm install @anthropic-ai/sdk@^1.13.0',
    });
  });

  it('a package that is present but fails to load is told apart from a missing one', () => {
    // The package resolves, but one of its own imports does not: installing it again is not the fix.
    const broken = missingDependency('openai', notFound('some-dependency-of-openai'));
    expect(broken.code).toBe('DEPENDENCY_MISSING');
    expect(broken.message).toContain('is installed but could not be loaded');
    expect(broken.details).toMatchObject({ package: 'openai', installed: true });
  });

  it('a failed load is not remembered: the next call tries again', async () => {
    let attempts = 0;
    const load = () => {
      attempts++;
      return attempts === 1 ? Promise.reject(notFound('@anthropic-ai/sdk')) : Promise.resolve('sdk');
    };
    // (The success is cached for this file's module instance: no later test here loads this SDK.)
    await expect(loadSdk('@anthropic-ai/sdk', load)).rejects.toMatchObject({ code: 'DEPENDENCY_MISSING' });
    await expect(loadSdk('@anthropic-ai/sdk', load)).resolves.toBe('sdk');
    expect(attempts).toBe(2);
  });

  it('the installed packages load for real (the repository has them as dev dependencies)', async () => {
    // A real PostgreSQL parse: the optional parser resolved from @baton/core.
    await expect(checkReadOnlySql('SELECT id FROM users')).resolves.toMatchObject({ readOnly: true });
    await expect(checkReadOnlySql('DELETE FROM users')).resolves.toMatchObject({ readOnly: false });
  });
});
