import { BatonError, modelFromEnv } from '@baton/core';
import { scriptedModel, startProviderServer } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import { hello } from './helpers.js';

const pick = (env: Record<string, string>) => {
  const model = modelFromEnv({ env });
  return [model.provider, model.id];
};

function notConfigured(env: Record<string, string>): BatonError {
  try {
    modelFromEnv({ env });
  } catch (error) {
    expect(BatonError.is(error, 'MODEL_NOT_CONFIGURED')).toBe(true);
    return error as BatonError;
  }
  throw new Error('expected MODEL_NOT_CONFIGURED');
}

describe('modelFromEnv', () => {
  it('picks a provider from the keys, with a default model', () => {
    expect(pick({ OPENAI_API_KEY: 'sk' })).toEqual(['openai', 'gpt-4.1-mini']);
    expect(pick({ ANTHROPIC_API_KEY: 'ak' })).toEqual(['anthropic', 'claude-sonnet-4-6']);
    expect(pick({ OPENAI_API_KEY: 'sk', ANTHROPIC_API_KEY: 'ak' })).toEqual(['openai', 'gpt-4.1-mini']);
  });

  it('reads BATON_MODEL as provider:id or a bare id', () => {
    expect(
      pick({ BATON_MODEL: 'anthropic:claude-opus-4-5', OPENAI_API_KEY: 'sk', ANTHROPIC_API_KEY: 'ak' }),
    ).toEqual(['anthropic', 'claude-opus-4-5']);
    expect(pick({ BATON_MODEL: 'openai:o4-mini', OPENAI_API_KEY: 'sk' })).toEqual(['openai', 'o4-mini']);
    expect(pick({ BATON_MODEL: 'claude-haiku-4-5', OPENAI_API_KEY: 'sk', ANTHROPIC_API_KEY: 'ak' })).toEqual([
      'anthropic',
      'claude-haiku-4-5',
    ]);
    expect(pick({ BATON_MODEL: 'gpt-4.1', OPENAI_API_KEY: 'sk' })).toEqual(['openai', 'gpt-4.1']);
  });

  it('serves an OpenAI-compatible server from OPENAI_BASE_URL, with no key', async () => {
    const server = await startProviderServer({ replies: [{ type: 'turn', text: 'from llama' }] });
    try {
      const model = modelFromEnv({
        env: { OPENAI_BASE_URL: server.openaiBaseURL, BATON_MODEL: 'llama3.1:8b' },
      });
      expect([model.provider, model.id]).toEqual(['openai-compatible', 'llama3.1:8b']);
      expect((await model.generate(hello)).text).toBe('from llama');
      expect(server.requests[0]?.body.model).toBe('llama3.1:8b');
    } finally {
      await server.close();
    }
  });

  it('says exactly what to set', () => {
    const none = notConfigured({});
    for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'OPENAI_BASE_URL', 'BATON_MODEL']) {
      expect(none.message).toContain(name);
    }
    expect(notConfigured({ OPENAI_BASE_URL: 'http://localhost:11434/v1' }).message).toMatch(
      /set BATON_MODEL/,
    );
    expect(
      notConfigured({ BATON_MODEL: 'anthropic:claude-opus-4-5', OPENAI_API_KEY: 'sk' }).message,
    ).toContain('needs ANTHROPIC_API_KEY');
    expect(notConfigured({ BATON_MODEL: 'anthropic:', ANTHROPIC_API_KEY: 'ak' }).message).toContain(
      'no model',
    );
  });

  it('uses the fallback when nothing is configured, and only then', () => {
    const offline = scriptedModel(['offline'], { id: 'offline', provider: 'offline' });
    expect(modelFromEnv({ env: {}, fallback: offline })).toBe(offline);
    expect(modelFromEnv({ env: {}, fallback: () => offline })).toBe(offline);
    expect(modelFromEnv({ env: { OPENAI_API_KEY: 'sk' }, fallback: offline }).provider).toBe('openai');
  });
});
