import { startProviderServer } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import { main } from '../src/with-providers/main.js';
import { capture } from './capture.js';

const fastRetry = { initialDelayMs: 1, maxDelayMs: 5, jitter: false } as const;

describe('examples/with-providers', () => {
  it('with no provider configured, says what to set and runs offline', async () => {
    const io = capture();
    const result = await main({ env: {}, out: io.out, progress: io.progress });
    expect(result.status).toBe('completed');
    expect(io.stdout()).toContain('No model provider is configured');
    expect(io.stdout()).toContain('OPENAI_BASE_URL=http://localhost:11434/v1 BATON_MODEL=llama3.1');
  });

  it('an OpenAI-compatible server that is down: each call is retried, then falls back, and the team still completes', async () => {
    // A real HTTP server speaking the OpenAI wire format, reached through the official openai SDK.
    const server = await startProviderServer({
      handler: () => ({ type: 'error', status: 503, message: 'overloaded' }),
    });
    try {
      const io = capture();
      const env = { OPENAI_BASE_URL: server.openaiBaseURL, BATON_MODEL: 'llama3.1' };
      const result = await main({ env, retry: fastRetry, out: io.out, progress: io.progress });

      expect(result.status).toBe('completed');
      expect(io.stdout()).toContain('openai-compatible:llama3.1');
      const fallbacks = io.lines.filter((line) =>
        /openai-compatible:llama3\.1 failed \(\w+\): falling back to offline:/.test(line),
      );
      const retries = io.lines.filter((line) => line.startsWith('[model] retry '));
      // Every model call of the team (one per step): 3 attempts on the server (1 + 2 retries), then the offline model.
      const modelCalls = Object.values(result.members).reduce((sum, member) => sum + member.steps, 0);
      expect(modelCalls).toBe(7);
      expect(fallbacks.length).toBe(modelCalls);
      expect(retries.length).toBe(fallbacks.length * 2);
      expect(server.requests.length).toBe(fallbacks.length * 3);
      expect(server.requests.every((request) => request.path === '/v1/chat/completions')).toBe(true);
      expect(new Set(server.requests.map((request) => request.body.model))).toEqual(new Set(['llama3.1']));
    } finally {
      await server.close();
    }
  });

  it('BATON_CHEAP_MODEL routes the tool-picking steps to the cheaper model', async () => {
    const server = await startProviderServer({ handler: () => ({ type: 'error', status: 503 }) });
    try {
      const io = capture();
      const env = {
        OPENAI_BASE_URL: server.openaiBaseURL,
        BATON_MODEL: 'big-model',
        BATON_CHEAP_MODEL: 'small-model',
      };
      const result = await main({ env, retry: { ...fastRetry }, out: io.out, progress: io.progress });
      expect(result.status).toBe('completed');
      const models = server.requests.map((request) => request.body.model);
      // Step 1 of every run plans on the strong model; the researcher's later tool-picking steps go to the cheap one.
      expect(models[0]).toBe('big-model');
      expect(models).toContain('small-model');
      expect(io.stdout()).toContain('Tool-picking steps are routed to small-model');
    } finally {
      await server.close();
    }
  });
});
