import { afterAll } from 'vitest';
import { type GatewayServer, type StartGatewayOptions, startGateway } from '../src/index.js';
import { testCatalogue } from './fixtures/catalogue.js';

const started = new Set<GatewayServer>();
afterAll(async () => {
  await Promise.all([...started].map((server) => server.close({ graceMs: 0 })));
});

/** A gateway on a free loopback port with the test catalogue; closed after the file's tests. */
export async function startTestGateway(options: StartGatewayOptions = {}): Promise<GatewayServer> {
  const server = await startGateway({
    port: 0,
    catalogue: testCatalogue(),
    log: () => {},
    ...options,
  });
  started.add(server);
  return server;
}

/** A reply body in a test: checked by `expect`, not by the type system, so it is indexable at any depth. */
// biome-ignore lint/suspicious/noExplicitAny: see above; test code only
export type Json = any;

export interface Reply {
  status: number;
  headers: Headers;
  body: Json;
}

/** One request with a real HTTP client (fetch/undici); the body parsed as JSON when it is JSON. */
export async function call(
  server: { url: string },
  path: string,
  init: {
    method?: string;
    body?: unknown;
    key?: string;
    headers?: Record<string, string>;
    raw?: string;
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  let body: string | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) body = JSON.stringify(init.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${server.url}${path}`, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Polls until `done` holds for the reply, or fails after `timeoutMs` (generous: a busy machine is slow). */
export async function pollRun(
  server: { url: string },
  id: string,
  done: (body: Json) => boolean,
  options: { key?: string; timeoutMs?: number } = {},
): Promise<Json> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: Reply | undefined;
  while (Date.now() < deadline) {
    last = await call(server, `/v1/runs/${id}`, options.key ? { key: options.key } : {});
    if (last.status === 200 && done(last.body)) return last.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`run ${id} did not get there: last ${JSON.stringify(last?.body)?.slice(0, 500)}`);
}

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** Reads Server-Sent Events from a response body as they arrive. */
export async function* readSse(response: Response): AsyncGenerator<SseEvent> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end < 0) break;
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = { event: 'message', data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event.event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        else if (line.startsWith('id:')) event.id = line.slice(3).trim();
      }
      event.data = data.join('\n');
      yield event;
    }
  }
}
