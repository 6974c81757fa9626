/**
 * The packages as a user gets them: every workspace package under packages/ is packed with `npm pack`,
 * the tarballs are installed into fresh projects under the system temp directory (outside the repository,
 * so nothing resolves through its node_modules), and code written there uses them — a two-agent pipeline
 * compiled by tsc against the shipped type declarations, `npx baton --version` and `npx baton run
 * research`. A second project installs @baton/core alone: no provider SDK comes with it, and using one
 * says what to install. Needs the packages built (`npx tsc -b`; `npm ci` runs it) and the third-party
 * packages in the npm cache (`npm ci` leaves them there; anything missing is fetched).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
/** Installs on a busy 2-core machine take minutes; these bound a hang, they check no speed. */
const INSTALL_MS = 600_000;
const COMMAND_MS = 180_000;

interface Packed {
  name: string;
  version: string;
  filename: string;
  files: { path: string }[];
}

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  bin?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment for npm and the installed CLI: no provider keys (the CLI must pick its offline model),
 * and none of the npm_* variables an enclosing `npm test` sets (a workspace or prefix setting would
 * send the install back into the repository). The cache location and registry settings stay.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep =
    /^npm_config_(cache|registry|userconfig|globalconfig|https?_proxy|proxy|noproxy|cafile|strict_ssl)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !keep.test(key)) continue;
    if (/^(OPENAI_API_KEY|ANTHROPIC_API_KEY|OPENAI_BASE_URL|BATON_MODEL|OTEL_EXPORTER_OTLP_\w+)$/.test(key))
      continue;
    env[key] = value;
  }
  // `npx --no`: npx must find the project's own `baton`, never fetch a package of that name.
  env.npm_config_yes = 'false';
  return env;
}

function exec(command: string, args: readonly string[], cwd: string, timeout: number): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: cleanEnv(), timeout, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs a command that must succeed, failing with everything it printed when it does not. */
async function must(
  command: string,
  args: readonly string[],
  cwd: string,
  timeout: number,
): Promise<Outcome> {
  const outcome = await exec(command, args, cwd, timeout);
  if (outcome.code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) exited with ${outcome.code}\n` +
        `stdout:\n${outcome.stdout.slice(-4_000)}\nstderr:\n${outcome.stderr.slice(-4_000)}`,
    );
  }
  return outcome;
}

/** The published packages: the workspaces under packages/, read from the root package.json now. */
async function publishedWorkspaces(): Promise<{ dir: string; manifest: Manifest }[]> {
  const root = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { workspaces: string[] };
  const found: { dir: string; manifest: Manifest }[] = [];
  for (const dir of root.workspaces.filter((path) => path.startsWith('packages/'))) {
    const manifest = JSON.parse(await readFile(join(REPO, dir, 'package.json'), 'utf8')) as Manifest;
    if (!manifest.private) found.push({ dir, manifest });
  }
  return found;
}

/** `npm install` into `project`, from the npm cache where it has the packages (the network only for misses). */
function install(project: string): Promise<Outcome> {
  return must('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], project, INSTALL_MS);
}

const PIPELINE = `import { defineAgent, defineHandoff, defineTool } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { pipeline } from '@baton/supervisor';
import { z } from 'zod';

const counted = defineHandoff({
  name: 'text.counted',
  version: 1,
  input: z.object({ words: z.number().int() }),
  output: z.object({ line: z.string() }),
});

const countWords = defineTool({
  name: 'count_words',
  description: 'Counts the words of a text',
  input: z.object({ text: z.string() }),
  risk: 'read',
  execute: async ({ text }) => ({ words: text.split(/\\s+/).filter(Boolean).length }),
});

/** The number after "words" in the last message: the tool result, or the handoff the stage received. */
function wordsIn(messages: readonly { content: string }[]): number {
  const match = /"words":\\s*(\\d+)/.exec(messages.at(-1)?.content ?? '');
  if (!match) throw new Error('no word count in the conversation');
  return Number(match[1]);
}

const counter = defineAgent({
  name: 'counter',
  description: 'Counts the words of the text it gets',
  instructions: 'Count the words with count_words, then answer {"words": n}.',
  model: scriptedModel((request, call) =>
    call === 0
      ? { toolCalls: [{ name: 'count_words', args: { text: String(request.messages.at(-1)?.content) } }] }
      : JSON.stringify({ words: wordsIn(request.messages) }),
  ),
  tools: [countWords],
  requiredTools: ['count_words'],
  output: z.object({ words: z.number().int() }),
});

const announcer = defineAgent({
  name: 'announcer',
  description: 'Says how many words there were',
  instructions: 'Answer {"line": "<n> words"}.',
  model: scriptedModel((request) => JSON.stringify({ line: \`\${wordsIn(request.messages)} words\` })),
  output: z.object({ line: z.string() }),
});

const team = pipeline<string, { line: string }>({
  name: 'count-and-announce',
  stages: [{ agent: counter }, { agent: announcer, contract: counted }],
  budget: { maxTokens: 10_000 },
});

const result = await team.run('the quick brown fox jumps over the lazy dog');
console.log(JSON.stringify({
  status: result.status,
  output: result.output,
  members: Object.fromEntries(Object.entries(result.members).map(([name, member]) => [name, member.status])),
  handoffs: result.transcript.length,
}));
`;

const CORE_ONLY = `import { anthropic, BatonError, checkReadOnlySql, openai } from '@baton/core';

const request = { messages: [{ role: 'user', content: 'hi' }] };
const failures = {};
for (const [name, model] of [['openai', openai('gpt-4.1-mini', { apiKey: 'sk-test' })], ['anthropic', anthropic('claude-sonnet-4-6', { apiKey: 'sk-test' })]]) {
  try {
    await model.generate(request);
    failures[name] = 'no error';
  } catch (error) {
    failures[name] = error instanceof BatonError ? { code: error.code, message: error.message, details: error.details } : String(error);
  }
}
const sql = await checkReadOnlySql('SELECT 1');
console.log(JSON.stringify({ failures, sql }));
`;

describe('the packed packages, installed outside the repository', () => {
  let work: string;
  let project: string;
  const packed = new Map<string, Packed>();
  let manifests: Map<string, Manifest>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'baton-pack-'));
    const tarballs = join(work, 'tarballs');
    await mkdir(tarballs);
    const workspaces = await publishedWorkspaces();
    manifests = new Map(workspaces.map(({ manifest }) => [manifest.name, manifest]));
    // One npm process packs them all; scripts are skipped because the build is done (tsc -b).
    const args = ['pack', '--json', '--ignore-scripts', '--pack-destination', tarballs];
    for (const { dir } of workspaces) args.push('-w', dir);
    const { stdout } = await must('npm', args, REPO, INSTALL_MS);
    for (const entry of JSON.parse(stdout) as Packed[]) packed.set(entry.name, entry);

    // A project that depends on every tarball: their dependencies on each other (0.1.0) resolve to them.
    project = join(work, 'app');
    await mkdir(project);
    const dependencies: Record<string, string> = { zod: '4.6.7' };
    for (const entry of packed.values()) dependencies[entry.name] = `file:${join(tarballs, entry.filename)}`;
    await writeFile(
      join(project, 'package.json'),
      `${JSON.stringify({ name: 'app', private: true, type: 'module', dependencies }, null, 2)}\n`,
    );
    await install(project);
  }, INSTALL_MS * 2);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it(
    'packs every package with its build, types, README and LICENSE, and no build cache',
    async () => {
      expect([...packed.keys()].sort()).toEqual([...manifests.keys()].sort());
      const license = await readFile(join(REPO, 'LICENSE'), 'utf8');
      for (const entry of packed.values()) {
        const paths = new Set(entry.files.map((file) => file.path));
        expect(paths.has('dist/index.js'), `${entry.name}: dist/index.js`).toBe(true);
        expect(paths.has('dist/index.d.ts'), `${entry.name}: dist/index.d.ts`).toBe(true);
        expect(paths.has('README.md'), `${entry.name}: README.md`).toBe(true);
        expect(paths.has('LICENSE'), `${entry.name}: LICENSE`).toBe(true);
        expect(
          [...paths].filter((path) => /tsbuildinfo|(^|\/)test\/|\.test\.[jt]s$/.test(path)),
          `${entry.name}: build caches or tests`,
        ).toEqual([]);
        // The installed copy is the tarball's: its LICENSE is the repository's.
        const installed = join(project, 'node_modules', ...entry.name.split('/'));
        expect(await readFile(join(installed, 'LICENSE'), 'utf8')).toBe(license);
      }
    },
    COMMAND_MS,
  );

  it(
    'runs a two-agent pipeline written in the project, type-checked against the shipped declarations',
    async () => {
      await writeFile(join(project, 'pipeline.ts'), PIPELINE);
      await writeFile(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2023', 'DOM'],
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            types: [],
            skipLibCheck: true,
            outDir: 'out',
          },
          files: ['pipeline.ts'],
        }),
      );
      // The repository's compiler, as a tool: it resolves the imports from the project, not from here.
      await must(process.execPath, [TSC, '-p', 'tsconfig.json'], project, COMMAND_MS);
      const run = await must(process.execPath, ['out/pipeline.js'], project, COMMAND_MS);
      const result = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as unknown;
      expect(result).toEqual({
        status: 'completed',
        output: { line: '9 words' },
        members: { counter: 'completed', announcer: 'completed' },
        handoffs: 2,
      });
    },
    2 * COMMAND_MS,
  );

  it(
    'a type error in the project is caught by the shipped declarations',
    async () => {
      await writeFile(
        join(project, 'wrong.ts'),
        `import { defineAgent } from '@baton/core';\nexport const agent = defineAgent({ name: 'x', description: 'x', instructions: 1 });\n`,
      );
      await writeFile(
        join(project, 'tsconfig.wrong.json'),
        JSON.stringify({
          extends: './tsconfig.json',
          compilerOptions: { noEmit: true },
          files: ['wrong.ts'],
        }),
      );
      const checked = await exec(process.execPath, [TSC, '-p', 'tsconfig.wrong.json'], project, COMMAND_MS);
      expect(checked.code).not.toBe(0);
      expect(checked.stdout).toMatch(/wrong\.ts.*error TS\d+/);
      expect(checked.stdout).not.toMatch(/Cannot find module '@baton\/core'/);
    },
    COMMAND_MS,
  );

  it(
    'npx baton --version prints the version of the installed @baton/cli',
    async () => {
      const cli = JSON.parse(
        await readFile(join(project, 'node_modules', '@baton', 'cli', 'package.json'), 'utf8'),
      ) as Manifest;
      expect(cli.version).toBe(manifests.get('@baton/cli')?.version);
      const outcome = await must('npx', ['baton', '--version'], project, COMMAND_MS);
      expect(outcome.stdout.trim()).toBe(cli.version);
    },
    COMMAND_MS,
  );

  it(
    'npx baton run research runs the team on the offline model and prints its report',
    async () => {
      const outcome = await exec('npx', ['baton', 'run', 'research'], project, COMMAND_MS);
      expect(outcome.code, outcome.stderr.slice(-4_000)).toBe(0);
      // No key in the environment: the offline model ran the team, and the output says so.
      expect(`${outcome.stdout}${outcome.stderr}`).toMatch(/offline model/i);
      expect(outcome.stderr).toMatch(/\[research\] completed/);
      // The report: a title, sections citing the bundled corpus by document id, and its sources.
      expect(outcome.stdout).toMatch(/^# \S/m);
      expect(outcome.stdout).toMatch(/\[[a-z0-9-]+\]/);
      expect(outcome.stdout).toContain('## Sources');
      // The trace went where `baton trace` reads it, in the project.
      expect(existsSync(join(project, '.baton', 'traces'))).toBe(true);
    },
    COMMAND_MS,
  );

  it(
    '@baton/core alone installs without provider SDKs and says what to install on first use',
    async () => {
      const core = packed.get('@baton/core');
      expect(core).toBeDefined();
      const optional = manifests.get('@baton/core')?.peerDependenciesMeta ?? {};
      expect(Object.keys(optional).sort()).toEqual(['@anthropic-ai/sdk', 'libpg-query', 'openai']);

      const alone = join(work, 'core-only');
      await mkdir(alone);
      await writeFile(
        join(alone, 'package.json'),
        JSON.stringify({
          name: 'core-only',
          private: true,
          type: 'module',
          dependencies: { '@baton/core': `file:${join(work, 'tarballs', core?.filename ?? '')}` },
        }),
      );
      await install(alone);
      for (const name of Object.keys(optional)) {
        expect(existsSync(join(alone, 'node_modules', ...name.split('/'))), `${name} installed`).toBe(false);
      }
      await writeFile(join(alone, 'probe.mjs'), CORE_ONLY);
      const outcome = await must(process.execPath, ['probe.mjs'], alone, COMMAND_MS);
      const { failures, sql } = JSON.parse(outcome.stdout) as {
        failures: Record<string, { code: string; message: string; details: Record<string, unknown> }>;
        sql: { readOnly: boolean; reason?: string };
      };
      const peers = manifests.get('@baton/core')?.peerDependencies ?? {};
      for (const [provider, pkg] of [
        ['openai', 'openai'],
        ['anthropic', '@anthropic-ai/sdk'],
      ] as const) {
        const install = `npm install ${pkg}@${peers[pkg]}`;
        expect(failures[provider]).toMatchObject({
          code: 'DEPENDENCY_MISSING',
          details: { package: pkg, install, installed: false },
        });
        expect(failures[provider]?.message).toContain(install);
      }
      // The read-only SQL guard fails closed without its parser, and says why.
      expect(sql.readOnly).toBe(false);
      expect(sql.reason).toContain(`npm install libpg-query@${peers['libpg-query']}`);
    },
    INSTALL_MS + COMMAND_MS,
  );
});
