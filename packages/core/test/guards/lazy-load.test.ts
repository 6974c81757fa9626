import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

// Importing @baton/core and building guards must not load the PostgreSQL parser or the OpenAI SDK.
const script = fileURLToPath(new URL('./lazy-load.child.ts', import.meta.url));

it('loads libpg-query and openai only when a guard first needs them', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=@baton/source', '--import', 'tsx', script],
    { cwd: fileURLToPath(new URL('../../../../', import.meta.url)), timeout: 30_000 },
  );
  const report = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, string[]>;
  expect(report.afterConstruct).toEqual([]);
  expect(report.afterSql).toEqual(['libpg-query']);
  expect(report.afterModeration).toEqual(['libpg-query', 'openai']);
});
