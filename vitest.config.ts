import { defineConfig } from 'vitest/config';

// Tests import workspace packages through their public entries; the `@baton/source` export condition
// points those entries at `src/`, so the suite runs against the sources without a build step.
const conditions = ['@baton/source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  // Vitest hands the SSR conditions to Node as --conditions: `import` there would also send CommonJS
  // `require` calls to a package's ESM entry (pg requiring pg-pool got a module namespace). Node and Vite
  // apply `import` to imports by themselves.
  ssr: {
    resolve: {
      conditions: conditions.filter((name) => name !== 'import'),
      externalConditions: conditions.filter((name) => name !== 'import'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // Two workers on two cores: most test files spend their time waiting on the processes they start
    // (nats-server, CLI, workers, Chromium), so a second worker cut the suite from 726 s to 450 s here.
    maxWorkers: 2,
    // A last resort against a hang, not a speed check (each test bounds its own waits, with clearer
    // messages). Generous because the suite must hold with every core busy (`npm run test:loaded`): the
    // tests that start several Node + tsx processes (examples/distributed, the CLI's) took up to 28 s
    // there, against the 30 s this used to be.
    testTimeout: 90_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
