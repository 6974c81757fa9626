// Run by lazy-load.test.ts in a fresh process: reports which provider SDKs are loaded at each stage.
import { register } from 'node:module';

const loaded = new Set<string>();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url: string) => {
  if (url.includes('/node_modules/openai/')) loaded.add('openai');
  if (url.includes('/node_modules/@anthropic-ai/sdk/')) loaded.add('@anthropic-ai/sdk');
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
const afterImport = await snapshot();
const gpt = core.openai('gpt-4.1-mini', {
  apiKey: 'k',
  baseURL: 'http://127.0.0.1:9/v1',
  maxRetries: 0,
  timeoutMs: 2000,
});
const claude = core.anthropic('claude-haiku-4-5', {
  apiKey: 'k',
  baseURL: 'http://127.0.0.1:9',
  maxRetries: 0,
  timeoutMs: 2000,
});
const afterConstruct = await snapshot();
const hello = { messages: [{ role: 'user' as const, content: 'hi' }] };
await gpt.generate(hello).catch(() => undefined);
const afterOpenAICall = await snapshot();
await claude.generate(hello).catch(() => undefined);
const afterAnthropicCall = await snapshot();
console.log(JSON.stringify({ afterImport, afterConstruct, afterOpenAICall, afterAnthropicCall }));
