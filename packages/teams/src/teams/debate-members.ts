import { modelForRole } from '@baton/agents';
import { type Agent, defineAgent, type Model } from '@baton/core';
import {
  type Critique,
  critiqueSchema,
  type DebateVerdict,
  debateCritique,
  debateJudge,
  debateVerdictSchema,
} from '@baton/supervisor';
import type { z } from 'zod';

type CritiqueInput = z.output<typeof debateCritique.input>;
type JudgeInput = z.output<typeof debateJudge.input>;

/** The perspective each critic of the debate team judges from: they must differ. */
export const CRITIC_PERSPECTIVES = Object.freeze({
  'fact-checker': 'evidence: every claim is supported by a source it cites, and nothing is invented',
  editor: 'the reader: a clear structure, a short summary, and a closing section that says what to do',
});

/** A debate critic: judges the candidate strictly from the perspective the team gives it. */
export function critic(name: string, options: { model?: Model } = {}): Agent<CritiqueInput, Critique> {
  return defineAgent<CritiqueInput, Critique>({
    name,
    description: 'Critiques a candidate draft from one perspective: approve, or the issues to fix.',
    instructions: ({ input }) =>
      [
        `You are a critic in a debate about a draft. Judge it strictly from this perspective: ${input.perspective}.`,
        'The candidate holds the draft and the sources it may cite. Approve only when nothing important is left',
        'to fix from your perspective; otherwise list concrete issues, most important first, each one sentence',
        'the writer can act on. Answer with JSON matching the output schema.',
      ].join('\n'),
    model: options.model ?? modelForRole('critic'),
    input: debateCritique.input,
    output: critiqueSchema,
    limits: { maxSteps: 3, timeoutMs: 60_000 },
  });
}

/** The debate's judge: weighs the candidate and the critiques, and decides. */
export function judge(options: { model?: Model; name?: string } = {}): Agent<JudgeInput, DebateVerdict> {
  return defineAgent<JudgeInput, DebateVerdict>({
    name: options.name ?? 'judge',
    description: 'Decides whether the candidate is ready to publish, weighing the critiques.',
    instructions: [
      'You are the judge of a debate about a draft. Read the candidate and every critique.',
      'Approve when no critique raises an issue that matters to a reader; otherwise do not approve.',
      'Give your reason in one or two sentences. Answer with JSON matching the output schema.',
    ].join('\n'),
    model: options.model ?? modelForRole('judge'),
    input: debateJudge.input,
    output: debateVerdictSchema,
    limits: { maxSteps: 3, timeoutMs: 60_000 },
  });
}
