// Run by lazy-load.test.ts in a fresh process: which heavy packages the guards load, and when.
import { register } from 'node:module';

const loaded = new Set<string>();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url: string) => {
  if (url.includes('/node_modules/openai/')) loaded.add('openai');
  if (url.includes('/node_modules/libpg-query/')) loaded.add('libpg-query');
});
port1.unref();
const hooks = `
let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, next) { port.postMessage(url); return next(url, context); }
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, {
  data: { port: port2 },
  transferList: [port2],
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
const snapshot = async () => {
  await settle();
  return [...loaded].sort();
};

const core = await import('@baton/core');
const context = {
  stage: 'toolInput' as const,
  runId: 'r',
  agent: 'a',
  tool: 'query',
  signal: new AbortController().signal,
};
const sql = core.readOnlySqlGuard({ tool: 'query', path: 'sql' });
const moderation = core.moderationGuard({
  classifier: core.openAIModeration({
    apiKey: 'k',
    baseURL: 'http://127.0.0.1:9/v1',
    maxRetries: 0,
    timeoutMs: 2000,
  }),
});
core.piiGuard().check('jane@example.com', context);
await core.injectionGuard().check('hello', context);
const afterConstruct = await snapshot();
await sql.check({ sql: 'SELECT 1' }, context);
const afterSql = await snapshot();
await moderation.check('hello', { ...context, stage: 'output' });
const afterModeration = await snapshot();
console.log(JSON.stringify({ afterConstruct, afterSql, afterModeration }));
