import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

// Importing @baton/core must not load either provider SDK; the first request does.
const script = fileURLToPath(new URL('./lazy-load.child.ts', import.meta.url));

it('loads the provider SDKs only on the first request', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=@baton/source', '--import', 'tsx', script],
    { cwd: fileURLToPath(new URL('../../../../', import.meta.url)), timeout: 20_000 },
  );
  const report = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, string[]>;
  expect(report.afterImport).toEqual([]);
  expect(report.afterConstruct).toEqual([]);
  expect(report.afterOpenAICall).toEqual(['openai']);
  expect(report.afterAnthropicCall).toEqual(['@anthropic-ai/sdk', 'openai']);
});
