// The trivial agent both sides of the `server` benchmark run: one model step that answers at once
// (a scripted model, no tools), so what is measured is the path around the run, not the run.
import { type Agent, defineAgent, defineHandoff } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import type { Catalogue } from '@baton/serve';
import { z } from 'zod';

const inputSchema = z.object({ text: z.string() });
export const TRIVIAL_INPUT = { text: 'ping' } as const;
export const TRIVIAL_OUTPUT = 'pong';

export function trivialAgent(): Agent<{ text: string }, unknown> {
  return defineAgent({
    name: 'trivial',
    description: 'Answers at once.',
    instructions: 'Answer.',
    // recordRequests: false — a benchmark must not keep every request (a real model keeps nothing).
    model: scriptedModel(() => TRIVIAL_OUTPUT, { recordRequests: false }),
    input: inputSchema,
  });
}

/** A catalogue with the trivial agent only; the same agent object for every run, as `run()` gets it. */
export function trivialCatalogue(): Catalogue {
  const agent = trivialAgent();
  return {
    teams: {},
    agents: {
      trivial: {
        name: 'trivial',
        description: 'Answers at once.',
        contract: defineHandoff({ name: 'trivial', version: 1, input: inputSchema, output: z.unknown() }),
        create: () => agent,
      },
    },
  };
}
