import { z } from 'zod';
import { type AnyTool, defineTool, isStrictCompatible, type Tool } from '../tools/define.js';

export const ASK_HUMAN = 'ask_human';

const askHumanInput = z.object({
  question: z.string().min(3).max(2_000).describe('The question, complete enough to answer without context'),
  why: z.string().max(2_000).optional().describe('Why you cannot go on without a person'),
  choices: z
    .array(z.string().min(1).max(200))
    .max(10)
    .optional()
    .describe('The answers you can act on, if few'),
  /** Filled in by the person (an `edit` decision), never by the model: the model's schema leaves it out. */
  answer: z.string().max(10_000).optional(),
});

export type AskHumanInput = z.infer<typeof askHumanInput>;
export type AskHumanOutput = { answered: true; answer: string } | { answered: false; note: string };

export interface AskHumanOptions {
  name?: string;
  description?: string;
}

const escalationTools = new WeakSet<AnyTool>();

/** True for tools made by `askHuman()`: their approvals are questions (reason `escalation`), counted. */
export function isEscalationTool(tool: AnyTool): boolean {
  return escalationTools.has(tool);
}

/**
 * Human escalation as a tool: the model asks a person a question, and the run pauses for the answer in
 * the same durable approval records as approvals (reason `escalation`): `awaiting_approval` with a
 * RunState, a record any process can decide (`baton approvals`, the library, a gateway), `resume` to go
 * on. The person answers with an `edit` decision whose arguments carry `answer`; `approve` without one
 * tells the model to proceed on its own judgement; `deny` stops the run. Every question counts in the
 * `baton.escalations` metric.
 */
export function askHuman(options: AskHumanOptions = {}): Tool<AskHumanInput, AskHumanOutput> {
  const tool = defineTool<AskHumanInput, AskHumanOutput>({
    name: options.name ?? ASK_HUMAN,
    description:
      options.description ??
      'Ask a person when you cannot go on without them: an ambiguous task, a missing fact only they know, an access that failed. The run waits for the answer.',
    input: askHumanInput,
    risk: 'read',
    needsApproval: true,
    // A person's answer is not content from outside: reading it does not make the run's writes suspect.
    untrustedOutput: false,
    timeoutMs: 5_000,
    preview: ({ question, why, choices }) => ({
      question,
      ...(why ? { why } : {}),
      ...(choices ? { choices } : {}),
      howToAnswer:
        'edit the call with {"answer": "<your answer>"} (approve without one: the agent proceeds on its own)',
    }),
    execute: ({ answer }) =>
      answer !== undefined && answer.trim() !== ''
        ? { answered: true, answer }
        : { answered: false, note: 'The person did not answer. Proceed on your own judgement and say so.' },
  });
  // The model is not shown `answer`: it is the person's to fill, through the approval.
  const { answer: _hidden, ...properties } = (tool.spec.parameters.properties ?? {}) as Record<
    string,
    unknown
  >;
  const parameters = { ...tool.spec.parameters, properties };
  const shown = { ...tool, spec: { ...tool.spec, parameters, strict: isStrictCompatible(parameters) } };
  escalationTools.add(shown as AnyTool);
  return shown;
}
