import { defineConfig } from 'vitest/config';

// Tests import workspace packages through their public entries; the `@baton/source` export condition
// points those entries at `src/`, so the suite runs against the sources without a build step.
const conditions = ['@baton/source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
